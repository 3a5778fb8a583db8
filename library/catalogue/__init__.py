"""The catalogue: its schema (models, migrations), records, collections, edits after ingest."""
