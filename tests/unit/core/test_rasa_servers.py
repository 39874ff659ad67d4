"""Which Rasa server a conversation goes to (plain values), and the settings that list the servers."""

from __future__ import annotations

from collections import Counter

import pytest

from core.rasa_servers import ranked
from core.settings import Settings

SERVERS = ["http://127.0.0.1:5005", "http://127.0.0.1:5006", "http://127.0.0.1:5007"]
SENDERS = [f"web:customer-{n}:{n * 7}" for n in range(3000)]


def test_every_server_is_ranked_once_and_the_ranking_is_the_same_every_time() -> None:
    for sender in SENDERS[:50]:
        order = ranked(SERVERS, sender)
        assert sorted(order) == sorted(SERVERS)
        assert ranked(list(reversed(SERVERS)), sender) == order  # the listed order does not matter


def test_conversations_spread_over_the_servers() -> None:
    firsts = Counter(ranked(SERVERS, sender)[0] for sender in SENDERS)
    assert set(firsts) == set(SERVERS)
    assert all(800 < count < 1200 for count in firsts.values()), firsts


def test_a_server_that_leaves_moves_only_its_own_conversations() -> None:
    without_last = SERVERS[:2]
    for sender in SENDERS:
        order = ranked(SERVERS, sender)
        first = ranked(without_last, sender)[0]
        # Every other conversation stays put; the leaver's go to their own second choice.
        assert first == (order[0] if order[0] != SERVERS[2] else order[1])


def test_one_url_or_a_list_of_them_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTLINE_RASA__URL", "http://127.0.0.1:6005/")
    assert Settings(_env_file=None).rasa.servers == ["http://127.0.0.1:6005"]
    monkeypatch.setenv("FRONTLINE_RASA__URLS", '["http://127.0.0.1:5005", "http://127.0.0.1:5006/"]')
    assert Settings(_env_file=None).rasa.servers == SERVERS[:2]
