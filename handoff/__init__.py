"""Operator side: the queue of escalated sessions, claiming, replies, closing, returning to the bot."""
