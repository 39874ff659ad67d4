"""SIP: message parsing/serialising (pure) and the UDP user agent."""
