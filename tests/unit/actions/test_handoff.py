"""The handoff signal: why the customer goes to a person, and the operator's one-line summary."""

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionFallback
from actions.handoff import ActionHandoff, ActionOfferHandoff


def user(text: str, intent: str, confidence: float = 0.9) -> dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "parse_data": {"intent": {"name": intent, "confidence": confidence}, "entities": []},
    }


def bot_action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name}


def tracker(*events: dict[str, Any], language: str = "en") -> Tracker:
    latest = next((e for e in reversed(events) if e["event"] == "user"), {})
    return Tracker.from_dict(
        {
            "sender_id": "web:test:1",
            "slots": {"language": language},
            "latest_message": {"text": latest.get("text"), **latest.get("parse_data", {})},
            "events": list(events),
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


async def run_handoff(t: Tracker) -> tuple[CollectingDispatcher, list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, t, {})
    return dispatcher, events


async def test_two_misunderstood_messages_are_quoted_for_the_operator() -> None:
    t = tracker(
        user("hello", "greet"),
        bot_action("utter_greet"),
        user("blorf zzkx", "greet", 0.8),  # confidently wrong: a core fallback
        bot_action("action_fallback"),
        user("qwerty asdf", "nlu_fallback", 0.1),
        bot_action("action_fallback"),
        bot_action("action_offer_handoff"),
        user("yes", "affirm"),
    )
    dispatcher, events = await run_handoff(t)
    payload = dispatcher.messages[1]["custom"]["handoff"]
    assert payload["reason"] == "not_understood"
    assert "blorf zzkx" in payload["summary"] and "qwerty asdf" in payload["summary"]
    assert "hello" not in payload["summary"]
    assert events == [{"event": "pause", "timestamp": None}]


async def test_failed_troubleshooting_goes_to_the_technical_queue() -> None:
    t = tracker(
        user("my internet is dead since morning", "internet_down"),
        user("no", "deny"),
        user("no", "deny"),
        user("yes", "affirm"),
    )
    dispatcher, _ = await run_handoff(t)
    payload = dispatcher.messages[1]["custom"]["handoff"]
    assert (payload["reason"], payload["topic"]) == ("technical_issue", "technical")
    assert "dead since morning" in payload["summary"]


async def test_billing_dispute_offer_says_why_a_person_is_needed() -> None:
    dispatcher = CollectingDispatcher()
    await ActionOfferHandoff().run(dispatcher, tracker(user("you charged me twice", "billing_dispute")), {})
    assert dispatcher.messages[0]["response"] == "utter_offer_handoff_billing"


async def test_first_miss_clarifies_second_in_a_row_offers_a_person() -> None:
    first = tracker(user("hello", "greet"), user("blorf", "nlu_fallback", 0.2))
    dispatcher = CollectingDispatcher()
    assert await ActionFallback().run(dispatcher, first, {}) == [
        {"event": "followup", "timestamp": None, "name": "action_listen"}
    ]
    assert dispatcher.messages[0]["response"] == "utter_clarify"

    # The first miss had a confident intent the bot could not follow: still a miss.
    second = tracker(
        user("blorf", "greet", 0.8),
        bot_action("action_fallback"),
        bot_action("action_listen"),
        user("zzz", "nlu_fallback", 0.2),
    )
    events = await ActionFallback().run(CollectingDispatcher(), second, {})
    assert events == [{"event": "followup", "timestamp": None, "name": "action_offer_handoff"}]


async def test_the_operator_reads_the_summary_in_the_conversation_language() -> None:
    """Operators are routed by language: a Russian or Arabic customer's card is summed up in theirs."""
    russian = tracker(user("вы списали деньги два раза за ноябрь", "billing_dispute"), language="ru")
    arabic = tracker(
        user("ابغى اكلم موظف", "request_human"), bot_action("action_offer_handoff"), user("اي", "affirm"),
        language="ar",
    )  # fmt: skip
    persian = tracker(user("asdf qwer", "nlu_fallback", 0.1), bot_action("action_fallback"), language="fa")

    summaries = [(await run_handoff(t))[0].messages[1]["custom"]["handoff"]["summary"]
                 for t in (russian, arabic, persian)]  # fmt: skip

    assert summaries[0] == "Спор по счёту: «вы списали деньги два раза за ноябрь»"
    assert summaries[1] == "العميل طلب التحدث مع موظف: «ابغى اكلم موظف»"
    assert summaries[2].startswith("ربات متوجه پیام مشتری نشد") and "«asdf qwer»" in summaries[2]
