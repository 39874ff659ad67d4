"""Building blocks of the fake Telegram Bot API server (see testing/telegram/fake_bot_api.py)."""
