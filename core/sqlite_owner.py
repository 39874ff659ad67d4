"""One app process per SQLite database: a second one is refused at start, with a message saying why.

SQLite has no server to keep a customer's turns in order across processes (core.locks), so the app
serving a SQLite file holds an exclusive lock (flock) on `<database>.app-lock` for as long as it
runs. The kernel drops the lock when the process ends, however it ends, so a crash never leaves a
stale one behind. The action server opens the database, not the lock file: it is another program,
and sharing the file with it is safe (WAL). A server database (PostgreSQL) is not locked here.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

LOCK_SUFFIX = ".app-lock"


class DatabaseInUse(RuntimeError):
    """Another app process serves this SQLite database."""


@contextmanager
def own_sqlite_database(url: str) -> Iterator[None]:
    """Holds the database for this process while the block runs; DatabaseInUse if another has it."""
    path = lock_path(url)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseInUse(_refusal(path, holder=os.pread(fd, 32, 0).decode(errors="replace"))) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # only for the message a second process prints
        yield
    finally:
        os.close(fd)  # releases the lock


def refuse_if_in_use(url: str) -> None:
    """DatabaseInUse now, before a server starts, if another app process has the database; the app
    itself takes it for good when it starts (own_sqlite_database in its lifespan)."""
    with own_sqlite_database(url):
        pass


def lock_path(url: str) -> Path | None:
    """The lock file beside a SQLite database file; None for a server or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    # Resolved, so two processes naming one file by different paths (a symlink) share one lock.
    database = Path(parsed.database).resolve()
    return database.with_name(database.name + LOCK_SUFFIX)


def _refusal(path: Path, holder: str) -> str:
    pid = holder.strip()
    who = f"another front-line app process (pid {pid})" if pid.isdigit() else "another front-line app process"
    database = path.with_name(path.name.removesuffix(LOCK_SUFFIX))
    return (
        f"{who} is already serving the SQLite database {database}. SQLite serves one app process: "
        "stop the other one first, or run several app processes on PostgreSQL (README, Deployment)."
    )
