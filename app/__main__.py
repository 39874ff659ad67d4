"""Runs the front-line web app: `python -m app`."""

from __future__ import annotations

import sys

import uvicorn

from app.factory import create_app
from core.logging import configure_logging
from core.settings import get_settings
from core.sqlite_owner import DatabaseInUse, refuse_if_in_use


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    try:
        refuse_if_in_use(settings.db.url)  # one line, not the web server's start-up traceback
    except DatabaseInUse as exc:
        sys.exit(f"front line not started: {exc}")
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level.lower()
    )


if __name__ == "__main__":
    main()
