"""Building blocks of the fake Telegram Bot API server (see tests/telegram/fake_bot_api.py)."""
