"""The system of record: catalogue, file store, queue and the use cases."""
