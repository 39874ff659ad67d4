"""Log lines never carry a customer's phone, card or e-mail address, whoever writes them."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from core.logging import SERVER_LOGGERS, PersonalDataFilter, protect_log_lines


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """A handler as a process has one, masked by protect_log_lines (only for this test)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    others = list(root.handlers)
    root.handlers = [handler]
    try:
        protect_log_lines()
        yield stream
    finally:
        root.handlers = others
        _unprotect()


def _unprotect() -> None:
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        for found in [f for f in logger.filters if isinstance(f, PersonalDataFilter)]:
            logger.removeFilter(found)


def test_a_log_line_hides_phones_cards_and_emails(lines: io.StringIO) -> None:
    log = logging.getLogger("frontline.test")
    log.warning("callback to %s for %s", "+7 916 123-45-67", "anna.k@example.com")
    log.warning("card 4111 1111 1111 1111 from ۰۹۱۲۳۴۵۶۷۸۹")  # Persian digits too
    out = lines.getvalue()
    assert "916" not in out and "anna.k" not in out and "example" not in out
    assert "4111 1111" not in out and "912345" not in out
    assert "*67" in out and "a***@***.com" in out


def test_an_order_number_and_short_numbers_stay_readable(lines: io.StringIO) -> None:
    logging.getLogger("frontline.test").warning("order %s, flat %s, 3 retries", "4827163", "12")
    assert "order 4827163, flat 12, 3 retries" in lines.getvalue()


def test_web_server_access_lines_are_masked_too(lines: io.StringIO) -> None:
    """uvicorn's access logger has its own handler, which root handlers never see."""
    access = logging.getLogger("uvicorn.access")
    assert any(isinstance(f, PersonalDataFilter) for f in access.filters)
    record = access.makeRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/1.1" %d',
        ("127.0.0.1:5000", "GET", "/api/chat/bob@mail.example/messages", 200), None,
    )  # fmt: skip
    assert access.filter(record)
    assert "bob@" not in record.getMessage() and "/messages" in record.getMessage()
