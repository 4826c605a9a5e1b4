"""Native batch ingestion: specs, input readers, the loader and the task queue."""
