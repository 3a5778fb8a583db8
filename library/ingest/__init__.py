"""Taking scans in: checking uploads and metadata sheets, storing originals, queueing pages."""
