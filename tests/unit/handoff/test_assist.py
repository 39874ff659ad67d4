"""Agent assist's pure parts: the FAQ ranking read from Rasa's parse output, order numbers and phones
found in what customers type, and the figure of replies sent from a suggestion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.kinds import SessionEventKind
from handoff.assist import faq_ranking, order_number_in, phones_in
from handoff.kpi import EventRow, Period, suggestion_figures

NOON = datetime(2026, 12, 1, 12, tzinfo=UTC)


def parsed(faq: float, topics: dict[str, float], top: str = "faq") -> dict[str, Any]:
    """Rasa's /model/parse answer as the project's classifier fills it (topic shares within faq)."""
    intents = [{"name": "faq", "confidence": faq}, {"name": "order_status", "confidence": 1 - faq}]
    return {
        "intent": {"name": top, "confidence": max(faq, 1 - faq)},
        "intent_ranking": sorted(intents, key=lambda i: -i["confidence"]),
        "response_selector": {
            "all_retrieval_intents": ["faq"],
            "faq": {
                "response": {"intent_response_key": max(topics, key=topics.__getitem__)},
                "ranking": [
                    {"id": n, "confidence": c, "intent_response_key": k}
                    for n, (k, c) in enumerate(sorted(topics.items(), key=lambda kc: -kc[1]))
                ],
            },
        },
    }


def test_faq_answers_are_ranked_by_the_probability_that_the_message_asks_them() -> None:
    ranking = faq_ranking(parsed(0.8, {"faq/roaming": 0.75, "faq/sim_replacement": 0.25}))
    assert [k for k, _ in ranking] == ["faq/roaming", "faq/sim_replacement"]
    assert [round(c, 3) for _, c in ranking] == [0.6, 0.2]


def test_a_message_that_is_no_question_gives_low_faq_confidences() -> None:
    # The selector is sure of its topic within faq, but the message is about an order.
    ranking = faq_ranking(parsed(0.05, {"faq/working_hours": 0.99, "faq/autopay": 0.01}, top="order_status"))
    assert ranking[0][0] == "faq/working_hours" and ranking[0][1] < 0.1


def test_a_parse_without_a_selector_or_a_fallback_ranking_gives_nothing_or_keeps_faq() -> None:
    assert faq_ranking({"intent": {"name": "greet", "confidence": 1.0}}) == []
    # The fallback component puts nlu_fallback first; the FAQ intent's own confidence still counts.
    fallback = parsed(0.4, {"faq/roaming": 0.5, "faq/autopay": 0.5})
    fallback["intent_ranking"].insert(0, {"name": "nlu_fallback", "confidence": 0.5})
    assert [round(c, 2) for _, c in faq_ranking(fallback)] == [0.2, 0.2]


def test_output_not_in_rasas_shape_gives_no_answers_rather_than_an_error() -> None:
    odd = parsed(0.9, {"faq/roaming": 1.0})
    odd["response_selector"]["faq"]["ranking"] = ["faq/roaming", {"intent_response_key": 3}, None]
    assert faq_ranking(odd) == []
    assert faq_ranking({"intent_ranking": "faq", "response_selector": []}) == []
    odd = parsed(0.9, {"faq/roaming": 1.0})
    odd["intent_ranking"][0]["confidence"] = "high"
    assert faq_ranking(odd) == [("faq/roaming", 0.0)]


def test_order_numbers_in_any_digits_but_not_inside_longer_numbers() -> None:
    assert order_number_in("سفارش ۴۸۲۰۱۹۳ چی شد") == "4820193"
    assert order_number_in("طلبي رقم ٤٨٢٠١٩٣") == "4820193"
    assert order_number_in("заявка 4820193, где она?") == "4820193"
    assert order_number_in("мой телефон 89161234567") is None
    assert order_number_in("номер 482019") is None


def test_phones_in_free_text_come_out_in_e164() -> None:
    assert phones_in("звоните 8 (916) 123-45-67 после обеда", ["RU"]) == ["+79161234567"]
    assert phones_in("شماره‌ام ۰۹۱۲ ۳۴۵ ۶۷۸۹ هست", ["IR"]) == ["+989123456789"]
    assert phones_in("+44 20 7946 0958 or 020 7946 0958", ["GB"]) == ["+442079460958"]
    assert phones_in("заявка 4820193", ["RU"]) == []


def use(operator_id: object, suggestion: str, minutes: int) -> EventRow:
    detail = {"operator_id": operator_id, "suggestion": suggestion, "ticket_id": 1, "message_id": minutes}
    return EventRow(1, SessionEventKind.REPLY_FROM_SUGGESTION, NOON + timedelta(minutes=minutes), detail)


def test_the_figure_counts_per_operator_and_topic_within_the_period_only() -> None:
    period = Period(NOON, NOON + timedelta(hours=1))
    uses = [
        use(7, "faq/roaming", 1),
        use(7, "order_status", 2),
        use(8, "faq/roaming", 3),
        use(8, "faq/roaming", 90),  # after the period
        use(7, "faq/roaming", -5),  # before it
        EventRow(1, SessionEventKind.CLAIMED, NOON, {"operator_id": 7}),
    ]
    figures = suggestion_figures(uses, period, replies=12)
    assert (figures.replies, figures.from_suggestion, figures.share) == (12, 3, 0.25)
    assert figures.by_operator == {7: 2, 8: 1}
    assert list(figures.by_topic.items()) == [("faq/roaming", 2), ("order_status", 1)]
    assert suggestion_figures([], period, replies=0).share is None
