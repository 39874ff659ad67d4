"""The project's strict fake Telegram Bot API server (fake_bot_api.py) and its building blocks (fake/)."""
