"""Async query functions over the front line's tables; callers own the transaction."""
