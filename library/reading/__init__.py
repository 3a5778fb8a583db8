"""Reading pages: OCR jobs, corrections, confidence, the jobs board."""
