"""aioconnectmetrics."""
