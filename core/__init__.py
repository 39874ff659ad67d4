"""Conversation core: owns sessions, persists every turn, routes between bot and operator."""
