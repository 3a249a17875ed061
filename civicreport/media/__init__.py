"""Photo pipeline (sniffing, limits, metadata, derivatives) and object storage backends."""
