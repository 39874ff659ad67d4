"""Starts and stops the whole front line: Rasa server, action server and the web app.

`python -m app.launcher serve` keeps them in the foreground; `run` adds a terminal chat.
`--rasa-servers M` starts M Rasa servers on one tracker store and spreads conversations over them;
`--app-workers N` starts N app processes on consecutive ports (PostgreSQL only) for a load balancer.
Ctrl-C (or SIGTERM, SIGHUP) stops every process it started; a second one makes it kill them now.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlsplit

import httpx
from sqlalchemy.engine import URL, make_url

from app.rasa_run import SECRET_VARIABLE
from core.rasa_auth import RasaAuth
from core.settings import PROJECT_ROOT, Settings, get_settings

RASA_BIN = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
APP_PYTHON = PROJECT_ROOT / ".venv" / "bin" / "python"
LOG_DIR = PROJECT_ROOT / "var" / "log"
STOP_GRACE_S = 10.0
STOP_POLL_S = 0.1
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
TRACKER_URL_VARIABLE = "FRONTLINE_RASA_TRACKER_URL"  # endpoints.yml reads it
# endpoints.yml reads Rasa's lock store from these: its type, then Redis's host, port, db and password.
LOCK_STORE_VARIABLES = ("TYPE", "HOST", "PORT", "DB", "PASSWORD")
LOCK_STORE_PREFIX = "FRONTLINE_RASA_LOCK_"


class LaunchError(RuntimeError):
    """A service did not come up; the message says which and where its log is."""


@dataclass
class StopSignals:
    """The first stop signal interrupts the launcher; any later one (or any once it is stopping)
    only hurries the stop, so a second Ctrl-C can never leave a service running."""

    stopping: bool = False
    hurry: bool = False

    def install(self) -> None:
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._received)

    def _received(self, signum: int, frame: object) -> None:
        if self.stopping:
            self.hurry = True
            return
        self.stopping = True
        raise KeyboardInterrupt


@dataclass
class Service:
    name: str
    argv: list[str]
    health_url: str
    env: dict[str, str] = field(default_factory=dict)
    startup_timeout_s: float = 180.0
    health_auth: httpx.Auth | None = None
    # What must exist before the process starts (Rasa's tracker database); raises LaunchError.
    prepare: Callable[[], None] | None = None
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    def start(self, log_to_files: bool) -> None:
        if self.prepare is not None:
            self.prepare()
        out: IO[bytes] | None = None
        if log_to_files:
            LOG_DIR.mkdir(parents=True, exist_ok=True)
            self.log_path = LOG_DIR / f"{self.name}.log"
            out = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv,
            cwd=PROJECT_ROOT,
            env={**os.environ, **self.env},
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            # Own process group: Ctrl-C reaches the launcher, which stops services in order.
            start_new_session=True,
        )

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise LaunchError(f"{self.name} exited with {self.process.returncode}{self._log_hint()}")
            try:
                if httpx.get(self.health_url, auth=self.health_auth, timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise LaunchError(f"{self.name} not ready after {self.startup_timeout_s:.0f} s{self._log_hint()}")

    def signal_group(self, signum: int) -> None:
        """Signal the service's whole process group: whatever it started goes with it."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def running(self) -> bool:
        """Anything of its process group still alive (the leader may have gone, a child not)."""
        if self.process is None:
            return False
        self.process.poll()  # reap the leader, or its zombie keeps the group alive
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self) -> None:
        stop_all([self])

    def _log_hint(self) -> str:
        return f" (log: {self.log_path})" if self.log_path else ""


def _port(url: str) -> int:
    return urlsplit(url).port or 80


def actions_service(settings: Settings) -> Service:
    port = settings.actions.port
    return Service(
        name="actions",
        argv=[str(APP_PYTHON), "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
        health_url=f"http://{settings.actions.host}:{port}/health",
        env={"SANIC_HOST": settings.actions.host, "FRONTLINE_DB__URL": settings.db.url},
        startup_timeout_s=60,
    )


def tracker_store_url(settings: Settings) -> str:
    """Where Rasa keeps its trackers: the configured URL, else a database of its own beside the
    app's (the app's tables and Rasa's never share a database, so neither migrates the other's)."""
    configured = settings.rasa.tracker_store_url.get_secret_value()
    if configured:
        return configured
    app_db = make_url(settings.db.url)
    backend = app_db.get_backend_name()
    if backend == "sqlite" and app_db.database not in (None, "", ":memory:"):
        path = Path(app_db.database)
        return f"sqlite:///{path.with_name(f'{path.stem}-rasa.db')}"
    if backend == "postgresql" and not app_db.query:
        # Rasa's venv reaches PostgreSQL through psycopg2, SQLAlchemy's default PostgreSQL driver.
        return _rasa_database(app_db).render_as_string(hide_password=False)
    raise LaunchError(
        "no place for Rasa's trackers can be derived from this database URL (an in-memory database, "
        "or driver options Rasa's driver may read otherwise): set FRONTLINE_RASA__TRACKER_STORE_URL"
    )


def _rasa_database(app_db: URL) -> URL:
    return app_db.set(drivername="postgresql", database=f"{app_db.database}_rasa")


def prepare_tracker_store(settings: Settings) -> None:
    """Rasa creates its tables, not its database (it waits for one for ever): make the SQLite
    file's folder, or the derived PostgreSQL database, on first start."""
    tracker = make_url(tracker_store_url(settings))
    if tracker.get_backend_name() == "sqlite" and tracker.database:
        Path(tracker.database).parent.mkdir(parents=True, exist_ok=True)
    elif not settings.rasa.tracker_store_url.get_secret_value():
        server = make_url(settings.db.url).set(drivername="postgresql")
        # A thread of its own: the caller may be inside an event loop (tests restart Rasa from one).
        with ThreadPoolExecutor(1) as worker:
            worker.submit(asyncio.run, _create_database(server, tracker.database or "")).result()


async def _create_database(server: URL, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server.render_as_string(hide_password=False))
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name) is None:
            quoted = name.replace('"', '""')
            await conn.execute(f'CREATE DATABASE "{quoted}"')
    except asyncpg.DuplicateDatabaseError:
        pass  # another launcher created it meanwhile
    except asyncpg.InsufficientPrivilegeError as exc:
        raise LaunchError(
            f"Rasa's tracker database {name!r} does not exist and this database user may not create "
            "it: create it, or set FRONTLINE_RASA__TRACKER_STORE_URL"
        ) from exc
    finally:
        await conn.close()


def lock_store_env(settings: Settings) -> dict[str, str]:
    """Rasa's lock store for endpoints.yml: in memory for one server; Redis when several share the
    trackers, so one conversation's turns wait for one another whichever server takes them. (Rasa's
    Redis lock is not atomic and its tickets expire after 60 s: the core's per-customer lock is what
    keeps a customer's turns in order; this one keeps servers off a tracker another is writing.)"""
    if len(settings.rasa.servers) == 1:
        values = ["in_memory", "", "", "", ""]
    else:
        redis = urlsplit(settings.rasa.lock_store_url.get_secret_value())
        if redis.scheme != "redis":
            raise LaunchError("FRONTLINE_RASA__LOCK_STORE_URL must be redis://[:password@]host:port/db")
        host, port = redis.hostname or "127.0.0.1", redis.port or 6379
        values = ["redis", host, str(port), redis.path.strip("/") or "1", unquote(redis.password or "")]
    return {LOCK_STORE_PREFIX + name: value for name, value in zip(LOCK_STORE_VARIABLES, values, strict=True)}


def _require_lock_store(settings: Settings) -> None:
    """Rasa starts without its Redis and then fails every turn: say so before it starts."""
    env = lock_store_env(settings)
    if env[LOCK_STORE_PREFIX + "TYPE"] != "redis":
        return
    host, port = env[LOCK_STORE_PREFIX + "HOST"], int(env[LOCK_STORE_PREFIX + "PORT"])
    try:
        socket.create_connection((host, port), timeout=2.0).close()
    except OSError as exc:
        raise LaunchError(
            f"several Rasa servers lock conversations in Redis, and nothing answers at {host}:{port}: "
            "start Redis, or set FRONTLINE_RASA__LOCK_STORE_URL"
        ) from exc


def _prepare_rasa(settings: Settings) -> None:
    prepare_tracker_store(settings)
    _require_lock_store(settings)


def with_rasa_servers(settings: Settings, count: int) -> Settings:
    """`count` Rasa servers on consecutive ports from the first configured one: the launcher starts
    exactly these, and the app is handed exactly these."""
    first = urlsplit(settings.rasa.servers[0])
    base = first.port or 80
    urls = [f"{first.scheme}://{first.hostname}:{base + n}" for n in range(count)]
    rasa = settings.rasa.model_copy(update={"url": urls[0], "urls": urls})
    return settings.model_copy(update={"rasa": rasa})


def rasa_services(settings: Settings) -> list[Service]:
    """One service per Rasa server, named rasa, rasa-2, ... (their logs too)."""
    services = [
        rasa_service(settings, url, "rasa" if n == 1 else f"rasa-{n}")
        for n, url in enumerate(settings.rasa.servers, start=1)
    ]
    for service in services:
        service.startup_timeout_s *= len(services)  # each loads its model on the same cores
    return services


def rasa_service(settings: Settings, url: str | None = None, name: str = "rasa") -> Service:
    """Rasa bound to loopback, its HTTP API (which can rewrite any conversation) behind a JWT secret
    handed over in the environment: argv is readable by every local user, the environment is not."""
    secret = settings.rasa.token.get_secret_value()
    url = url or settings.rasa.servers[0]
    port = _port(url)
    return Service(
        name=name,
        argv=[
            str(RASA_PYTHON),
            "-m",
            "app.rasa_run",
            "--enable-api",
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
            "--model",
            str(settings.model_path),
            "--endpoints",
            "endpoints.yml",
            "--credentials",
            "credentials.yml",
        ],
        health_url=f"{url}/status",
        health_auth=RasaAuth(secret),
        prepare=lambda: _prepare_rasa(settings),
        env={
            SECRET_VARIABLE: secret,
            "FRONTLINE_ACTIONS_URL": f"http://{settings.actions.host}:{settings.actions.port}/webhook",
            # In the environment, not argv: the URL may hold the database password.
            TRACKER_URL_VARIABLE: tracker_store_url(settings),
            **lock_store_env(settings),
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            # No usage data or error reports (which may quote customers) leave the machine.
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
        },
    )


def app_services(settings: Settings, count: int = 1) -> list[Service]:
    """`count` app processes, named app, app-2, ..., on consecutive ports from the configured one,
    each with the same settings. Several need PostgreSQL: the per-customer lock, the live events and
    the singleton lease cross processes only there (on SQLite a second app would be refused anyway)."""
    if count > 1 and make_url(settings.db.url).get_backend_name() != "postgresql":
        raise LaunchError(
            f"--app-workers {count} needs PostgreSQL (FRONTLINE_DB__URL): on SQLite one app process "
            "owns the database file, and customers' order, live events and background work stay in "
            "that process; run one app process, or point FRONTLINE_DB__URL at PostgreSQL"
        )
    return [
        app_service(settings, settings.port + n, "app" if n == 0 else f"app-{n + 1}") for n in range(count)
    ]


def app_service(settings: Settings, port: int | None = None, name: str = "app") -> Service:
    port = settings.port if port is None else port
    # SIP is one UDP endpoint whose calls live in one process: only the first app answers the phone.
    ivr = settings.ivr.enabled and port == settings.port
    return Service(
        name=name,
        argv=[str(APP_PYTHON), "-m", "app"],
        health_url=f"http://{settings.host}:{port}/healthz",
        # The app reads its settings from the environment: hand it exactly the launcher's.
        env={
            "FRONTLINE_RASA__URL": settings.rasa.servers[0],
            "FRONTLINE_RASA__URLS": json.dumps(settings.rasa.servers),
            "FRONTLINE_RASA__TOKEN": settings.rasa.token.get_secret_value(),
            "FRONTLINE_HOST": settings.host,
            "FRONTLINE_PORT": str(port),
            "FRONTLINE_DB__URL": settings.db.url,
            "FRONTLINE_IVR__ENABLED": str(ivr).lower(),
            "FRONTLINE_IVR__HOST": settings.ivr.host,
            "FRONTLINE_IVR__PORT": str(settings.ivr.port),
        },
        startup_timeout_s=60,
    )


def app_ports(services: list[Service]) -> list[int]:
    return [_port(s.health_url) for s in services if s.name == "app" or s.name.startswith("app-")]


DEMO_SIP_PORT = 5070


def with_demo_phone(settings: Settings) -> Settings:
    """`make run` answers the phone too: the IVR on loopback, unless configured otherwise."""
    if settings.ivr.enabled:
        return settings
    ivr = settings.ivr.model_copy(update={"enabled": True, "host": "127.0.0.1", "port": DEMO_SIP_PORT})
    return settings.model_copy(update={"ivr": ivr})


def with_token(settings: Settings) -> Settings:
    """A random secret for Rasa's HTTP API for this run when none is configured (32 bytes: HS256's key)."""
    if settings.rasa.token.get_secret_value():
        return settings
    rasa = settings.rasa.model_copy(update={"token": type(settings.rasa.token)(secrets.token_urlsafe(32))})
    return settings.model_copy(update={"rasa": rasa})


def _port_taken(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((parts.hostname or "127.0.0.1", parts.port or 80)) == 0


def start_all(services: list[Service], log_to_files: bool, signals: StopSignals | None = None) -> None:
    """Start in order and wait for each; on any failure stop what already runs."""
    for service in services:
        if _port_taken(service.health_url):
            raise LaunchError(
                f"{service.name}: {urlsplit(service.health_url).netloc} is already in use "
                "(is another front line running?)"
            )
    try:
        for service in services:
            print(f"starting {service.name} ...", flush=True)
            service.start(log_to_files)
        for service in services:
            service.wait_healthy()
            print(f"{service.name} ready", flush=True)
    except BaseException:
        stop_all(services, signals)
        raise


def stop_all(services: list[Service], signals: StopSignals | None = None) -> None:
    """Terminate every process group, wait up to STOP_GRACE_S (less if a signal asks to hurry),
    then kill what is left. Signals arriving meanwhile never cut the stop short."""
    own = signals is None and threading.current_thread() is threading.main_thread()
    signals = signals or StopSignals()
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS} if own else {}
    if own:
        signals.install()
    signals.stopping = True
    try:
        for service in reversed(services):
            service.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while any(s.running() for s in services) and time.monotonic() < deadline and not signals.hurry:
            time.sleep(STOP_POLL_S)
        for service in services:
            if service.running():
                service.signal_group(signal.SIGKILL)
            if service.process is not None:
                service.process.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "mode", choices=["serve", "run"], help="serve: services only; run: plus a terminal chat"
    )
    parser.add_argument(
        "--rasa-servers",
        type=_positive,
        default=1,
        metavar="M",
        help="Rasa servers on consecutive ports from FRONTLINE_RASA__URL's, sharing the tracker store",
    )
    parser.add_argument(
        "--app-workers",
        type=_positive,
        default=1,
        metavar="N",
        help="app processes on consecutive ports from FRONTLINE_PORT (PostgreSQL only), for a load balancer",
    )
    args = parser.parse_args(argv)
    settings = with_rasa_servers(with_token(get_settings()), args.rasa_servers)
    if args.mode == "run":
        settings = with_demo_phone(settings)
    if not settings.model_path.exists():
        print(f"No trained model at {settings.model_path}: run `make model` first.", file=sys.stderr)
        return 2
    services: list[Service] = []
    chat = args.mode == "run"
    signals = StopSignals()
    signals.install()
    try:
        apps = app_services(settings, args.app_workers)
        services = [actions_service(settings), *rasa_services(settings), *apps]
        start_all(services, log_to_files=chat, signals=signals)
        base = f"http://{settings.host}:{settings.port}"
        print(f"app processes on {settings.host}, ports: {' '.join(map(str, app_ports(apps)))}", flush=True)
        print(f"HTTP chat API: POST {base}/api/chat   OpenAPI: {base}/docs   logs: {LOG_DIR}", flush=True)
        if chat:
            from app.terminal import chat_loop
            from handoff.operators import main as operators

            operators(["demo"])  # prints the demo operator's log-in for the operator API
            print(f"Operator console: {base}/console   operator API: {base}/docs#/operator")
            sip = f"sip:ivr@{settings.ivr.host}:{settings.ivr.port}"
            print(f'Phone (SIP IVR): {sip}   e.g. `baresip -e "/dial {sip}"` from another terminal')
            chat_loop(base)
        else:
            _wait_for_any_exit(services)
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
    except LaunchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        stop_all(services, signals)
    return 0


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError("a whole number, 1 or more")
    return int(text)


def _wait_for_any_exit(services: list[Service]) -> None:
    while True:
        for service in services:
            if service.process is not None and service.process.poll() is not None:
                raise LaunchError(f"{service.name} stopped unexpectedly ({service.process.returncode})")
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
