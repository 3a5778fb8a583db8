"""Finding and using what is held: search, the index, IIIF, exports, readers' feedback."""
