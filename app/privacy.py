"""The data-subject command: export or erase one customer's data, purge what is old.

    .venv/bin/python -m app.privacy export <customer key>      # JSON on stdout
    .venv/bin/python -m app.privacy erase <customer key> --yes
    .venv/bin/python -m app.privacy purge --days 90

It runs without the app, on the configured database (FRONTLINE_DB__URL), and registers every
channel's data first, as the app does, so Telegram's and the web chat's tables are included.
The work itself is core.privacy's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channel_data import register_channels
from core.db import create_engine, create_session_factory
from core.privacy import erase_customer, export_customer, purge_older_than
from core.settings import get_settings


async def _run(args: argparse.Namespace) -> int:
    register_channels()
    engine = create_engine(get_settings().db)
    sessions: async_sessionmaker[AsyncSession] = create_session_factory(engine)
    try:
        async with sessions() as db, db.begin():
            if args.command == "export":
                found = await export_customer(db, args.customer)
                if found is None:
                    print(f"no customer {args.customer!r}", file=sys.stderr)
                    return 1
                print(json.dumps(found, ensure_ascii=False, indent=2))
            elif args.command == "erase":
                erased = await erase_customer(db, args.customer)
                if erased is None:
                    print(f"no customer {args.customer!r}", file=sys.stderr)
                    return 1
                print(f"erased {args.customer}: {erased.sessions} sessions, {erased.messages} messages; "
                      f"{erased.orders_anonymised} orders anonymised")  # fmt: skip
            else:
                print(json.dumps(await purge_older_than(db, args.days)))
    finally:
        await engine.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.privacy", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("export", help="print everything stored about a customer").add_argument("customer")
    erase = commands.add_parser("erase", help="delete a customer's data, anonymise their orders")
    erase.add_argument("customer")
    erase.add_argument("--yes", action="store_true", help="really erase (it cannot be undone)")
    purge = commands.add_parser("purge", help="delete transcripts and cards of contacts closed long ago")
    purge.add_argument("--days", type=int, required=True)
    args = parser.parse_args(argv)
    if args.command == "erase" and not args.yes:
        print("erasing cannot be undone: add --yes", file=sys.stderr)
        return 2
    if args.command == "purge" and args.days < 1:
        print("--days must be at least 1", file=sys.stderr)
        return 2
    return asyncio.run(_run(args))


if __name__ == "__main__":
    sys.exit(main())
