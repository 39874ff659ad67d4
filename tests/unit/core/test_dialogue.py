"""What a fresh Rasa conversation is started with when a long one rolls over (plain tracker values)."""

from __future__ import annotations

from typing import Any

from core.dialogue import carried_events


def _turn(text: str, stamp: float, *answers: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"event": "user", "text": text, "timestamp": stamp, "parse_data": {"intent": {"name": "x"}}},
        *answers,
        {"event": "action", "name": "action_listen", "timestamp": stamp},
    ]


def _tracker(events: list[dict[str, Any]], slots: dict[str, Any], paused: bool = False) -> dict[str, Any]:
    start = [
        {"event": "action", "name": "action_session_start", "timestamp": 1.0},
        {"event": "session_started", "timestamp": 1.0},
        {"event": "action", "name": "action_listen", "timestamp": 1.0},
    ]
    return {"events": start + events, "slots": slots, "paused": paused}


ORDER = [
    *_turn("hi", 2.0, {"event": "action", "name": "utter_greet"}),
    *_turn(
        "connect me", 3.0,
        {"event": "action", "name": "order_form"},
        {"event": "active_loop", "name": "order_form"},
        {"event": "slot", "name": "requested_slot", "value": "full_name"},
    ),
    *_turn("what are your hours", 4.0, {"event": "action", "name": "utter_faq"}),
    *_turn("Ivan Petrov", 5.0, {"event": "slot", "name": "full_name", "value": "Ivan Petrov"}),
    *_turn("+7 916 123-45-67", 6.0, {"event": "slot", "name": "phone", "value": "+79161234567"}),
]  # fmt: skip
SLOTS = {
    "language": "ru", "full_name": "Ivan Petrov", "phone": "+79161234567",
    "requested_slot": "address", "address": None,
}  # fmt: skip


def test_the_fresh_conversation_starts_a_session_with_every_set_slot() -> None:
    events = carried_events(_tracker(ORDER, SLOTS), 3)
    assert events is not None
    assert [e["event"] for e in events[:2]] == ["action", "session_started"]
    assert events[0]["name"] == "action_session_start"  # so Rasa runs no session start of its own
    set_first = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert set_first["language"] == "ru" and set_first["requested_slot"] == "address"
    assert "address" not in [e["name"] for e in events[:8] if e["event"] == "slot"]


def test_the_latest_turns_are_replayed_after_the_form_they_ran_in() -> None:
    events = carried_events(_tracker(ORDER, SLOTS), 3)
    assert events is not None
    texts = [e["text"] for e in events if e["event"] == "user"]
    assert texts == ["what are your hours", "Ivan Petrov", "+7 916 123-45-67"]
    first_user = next(i for i, e in enumerate(events) if e["event"] == "user")
    before = events[:first_user]
    assert {"event": "active_loop", "name": "order_form"} in [
        {k: e[k] for k in ("event", "name")} for e in before if e["event"] == "active_loop"
    ]
    assert before[-1]["event"] == "action" and before[-1]["name"] == "action_listen"
    assert events[-1]["name"] == "action_listen"


def test_no_event_is_older_than_the_session_start_rasa_reads_from() -> None:
    events = carried_events(_tracker(ORDER, SLOTS), 3)
    assert events is not None
    start = next(e for e in events if e["event"] == "session_started")["timestamp"]
    assert start == 4.0 and all(e.get("timestamp", start) >= start for e in events)


def test_a_form_that_ended_before_the_replayed_turns_stays_ended_but_known() -> None:
    done = [
        *ORDER,
        *_turn("yes", 7.0, {"event": "active_loop", "name": None}),
        *_turn("thanks", 8.0, {"event": "action", "name": "utter_welcome"}),
        *_turn("bye", 9.0, {"event": "action", "name": "utter_bye"}),
    ]
    events = carried_events(_tracker(done, {"language": "en"}), 2)
    assert events is not None
    loops = [e["name"] for e in events if e["event"] == "active_loop"]
    # The cancel action asks which form ran last; none is active any more.
    assert loops == ["order_form", None]


def test_fewer_turns_than_asked_replays_them_all_and_a_silent_tracker_none() -> None:
    events = carried_events(_tracker(ORDER[:3], {}), 3)
    assert events is not None
    assert [e["text"] for e in events if e["event"] == "user"] == ["hi"]
    empty = carried_events(_tracker([], {"language": "fa"}), 3)
    assert empty is not None and empty[-1]["name"] == "action_listen"
    assert not [e for e in empty if e["event"] == "user"]


def test_a_paused_conversation_or_one_mid_turn_does_not_move() -> None:
    assert carried_events(_tracker(ORDER, SLOTS, paused=True), 3) is None
    mid_turn = [*ORDER, {"event": "user", "text": "hello", "timestamp": 7.0}]
    assert carried_events(_tracker(mid_turn, SLOTS), 3) is None
    handed_off = [*ORDER, {"event": "action", "name": "action_handoff"}, {"event": "pause"}]
    assert carried_events(_tracker(handed_off, SLOTS), 3) is None
