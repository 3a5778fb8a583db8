"""Running the platform: the figures a monitoring system scrapes (:mod:`.metrics`), whether the parts
it needs answer (:mod:`.health`), and backup and restore of the catalogue and the store (:mod:`.backup`)."""
