"""Runs the front-line web app: `python -m app`."""

from __future__ import annotations

import uvicorn

from app.factory import create_app
from core.logging import configure_logging
from core.settings import get_settings


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level.lower()
    )


if __name__ == "__main__":
    main()
