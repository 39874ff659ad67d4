"""Logging set-up shared by every process, with personal data kept out of log lines."""

from __future__ import annotations

import logging


def configure_logging(level: str = "INFO") -> None:
    """Plain, greppable log lines on stderr."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
