"""The Telegram channel: aiogram 3 over the Bot API, bridged to the conversation core."""
