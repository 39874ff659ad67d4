"""The Telegram channel: aiogram 3 over the Bot API, bridged to the conversation core."""

# The channel's name in sessions, turns and operators' file links.
CHANNEL = "telegram"
