"""Free loopback ports for the servers a test or a benchmark starts."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on just now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def consecutive_free_ports(count: int) -> int:
    """A first port whose next `count - 1` are free too (the launcher numbers app processes so)."""
    for _ in range(50):
        first = free_port()
        if all(_bindable(first + n) for n in range(1, count)):
            return first
    raise RuntimeError("no run of free ports")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def redis_answers(host: str = "127.0.0.1", port: int = 6379) -> bool:
    """Redis (Rasa's lock store with several Rasa servers) takes connections there."""
    try:
        socket.create_connection((host, port), timeout=2.0).close()
    except OSError:
        return False
    return True


@contextmanager
def hung_port() -> Iterator[int]:
    """A loopback port whose server never accepts and whose queue is full: a connection to it times
    out, as to a machine that hangs (a refused connection is a port nothing listens on)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = int(server.getsockname()[1])
    queued = []
    try:
        for _ in range(4):  # more than the queue holds: further connections get no answer
            client = socket.socket()
            client.setblocking(False)
            with suppress(BlockingIOError):
                client.connect(("127.0.0.1", port))
            queued.append(client)
        yield port
    finally:
        for client in queued:
            client.close()
        server.close()
