"""Tests for aioconnectmetrics."""
