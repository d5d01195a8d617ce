"""The floor for the webhook ingest benchmark: a view that inserts one row and does nothing else."""
