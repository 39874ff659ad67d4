"""Operator accounts from the command line: `python -m handoff.operators add|role|demo`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import secrets
import sys

from sqlalchemy import select

from core.db import create_engine, create_session_factory
from core.kinds import OperatorRole
from core.migrate import upgrade
from core.models import Operator
from core.settings import Settings, get_settings
from handoff.passwords import hash_password

DEMO_LOGIN = "demo"


async def save_operator(
    settings: Settings,
    login: str,
    password: str,
    *,
    display_name: str,
    skills: list[str],
    languages: list[str],
    max_sessions: int,
    role: OperatorRole | None = None,
) -> None:
    """Create the operator, or update it (password included) when the login exists; the role
    stays as it is unless one is given (a new operator is an operator)."""
    engine = create_engine(settings.db)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            operator = await db.scalar(select(Operator).where(Operator.login == login))
            if operator is None:
                operator = Operator(login=login, password_hash="")
                db.add(operator)
            operator.password_hash = hash_password(password)
            operator.display_name = display_name
            operator.skills = skills
            operator.languages = languages
            operator.max_sessions = max_sessions
            if role is not None:
                operator.role = role
    finally:
        await engine.dispose()


async def set_role(settings: Settings, login: str, role: OperatorRole) -> bool:
    """False when there is no such operator."""
    engine = create_engine(settings.db)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            operator = await db.scalar(select(Operator).where(Operator.login == login))
            if operator is None:
                return False
            operator.role = role
            return True
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="create or update an operator (asks for the password)")
    add.add_argument("login")
    add.add_argument("--name", required=True, help="shown to customers: 'Anna joined the conversation'")
    add.add_argument("--skills", default="general", help="comma-separated: general,orders,technical,billing")
    add.add_argument("--languages", default="en", help="comma-separated language codes")
    add.add_argument("--max-sessions", type=int, default=3)
    roles = [r.value for r in OperatorRole]
    add.add_argument(
        "--role", choices=roles, help="operator or supervisor (default: unchanged; new: operator)"
    )
    role = sub.add_parser("role", help="make an operator a supervisor, or an operator again")
    role.add_argument("login")
    role.add_argument("role", choices=roles)
    sub.add_parser("demo", help="(re)create the demo operator with a new random password and print it")
    args = parser.parse_args(argv)

    settings = get_settings()
    upgrade(settings.db.url)
    if args.command == "role":
        if not asyncio.run(set_role(settings, args.login, OperatorRole(args.role))):
            print(f"no operator {args.login!r}", file=sys.stderr)
            return 1
        print(f"operator {args.login!r} is now a {args.role}")
        return 0
    if args.command == "demo":
        password = secrets.token_urlsafe(9)
        asyncio.run(
            save_operator(
                settings,
                DEMO_LOGIN,
                password,
                display_name="Demo Operator",
                skills=["general", "orders", "technical", "billing", "complaints"],
                languages=["en", "ru", "ar", "fa"],
                max_sessions=5,
                role=OperatorRole.SUPERVISOR,  # the demo shows the supervisor's view too
            )
        )
        print(f"Operator API log-in: login {DEMO_LOGIN!r}, password {password!r}")
        return 0
    password = getpass.getpass(f"password for {args.login}: ")
    if len(password) < 8:
        print("use at least 8 characters", file=sys.stderr)
        return 1
    asyncio.run(
        save_operator(
            settings,
            args.login,
            password,
            display_name=args.name,
            skills=[s.strip() for s in args.skills.split(",") if s.strip()],
            languages=[s.strip() for s in args.languages.split(",") if s.strip()],
            max_sessions=args.max_sessions,
            role=OperatorRole(args.role) if args.role else None,
        )
    )
    print(f"operator {args.login!r} saved")
    return 0


if __name__ == "__main__":
    sys.exit(main())
