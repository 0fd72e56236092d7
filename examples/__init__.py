"""Example applications built on aioconnectmetrics."""
