"""Tests of the Telegram channel, run against the project's strict fake Bot API server."""
