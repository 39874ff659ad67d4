"""A caller id is an identity only when an allowed PBX delivered it: from any other SIP peer it is
whatever that peer wrote, so it links no orders, no customer card and no other channels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.models import Customer
from tests.ivr.lines import IvrLine, ivr_settings, require_sipp, running_ivr
from tests.ivr.peers import call_scenario, rtp_recorder, run_sipp

VICTIM = "+15550177"  # has an order and a Telegram chat that shared this number
STRANGER = "+15550100"
ORDER = "3141592"


def _asserting(scenario: Path, number: str) -> Path:
    """The INVITE also carries P-Asserted-Identity, the header a PBX sets for the real caller."""
    text = scenario.read_text()
    invite_from = next(line for line in text.splitlines() if line.startswith("From:"))
    scenario.write_text(
        text.replace(invite_from, f"{invite_from}\nP-Asserted-Identity: <sip:{number}@127.0.0.1>", 1)
    )
    return scenario


async def _victim(line: IvrLine) -> None:
    await line.add_order(ORDER, phone=VICTIM)
    async with line.front.db() as db, db.begin():
        db.add(Customer(key="tg:4242", language="en", phone=VICTIM))


async def _callback_call(line: IvrLine, tmp_path: Path, sink: int, calling: str) -> dict[str, Any]:
    """Operator key, nobody to transfer to, 1 for a callback: the callback ticket with its card."""
    steps = ["pause", "0", "pause:2000", "1"]
    scenario = _asserting(call_scenario(tmp_path / "callback.xml", steps, ending="their_bye"), VICTIM)
    run = await run_sipp(scenario, line.sip_port, tmp_path, keys={"caller": calling, "sink_port": str(sink)})
    assert run.ok, run.output + run.errors
    call = line.ivr.calls[-1]
    [ticket] = await line.tickets(call.session_id)
    async with line.front.db() as db:
        keys = set(await db.scalars(select(Customer.key)))
        customer = await db.scalar(select(Customer).where(Customer.key == call.key))
    assert customer is not None
    return {"ticket": ticket, "keys": keys, "customer": customer}


async def test_a_caller_id_from_a_peer_that_is_no_allowed_pbx_links_no_order_card_or_channel(
    tmp_path: Path,
) -> None:
    require_sipp()
    async with running_ivr(ivr_settings(tmp_path, allowed_peers=[])) as line, rtp_recorder() as (_, sink):
        await _victim(line)
        seen = await _callback_call(line, tmp_path, sink, calling=VICTIM)
    card = seen["ticket"].card["customer"]
    assert card["phone"] is None and card["orders"] == [] and card["other_channels"] == []
    assert f"tel:{VICTIM}" not in seen["keys"] and seen["customer"].phone is None
    # The number the caller gave is still where a callback goes, like one typed in a chat.
    assert (seen["ticket"].kind, seen["ticket"].callback_phone) == ("callback", VICTIM)


async def test_the_number_an_allowed_pbx_asserts_is_the_callers_identity(tmp_path: Path) -> None:
    require_sipp()
    settings = ivr_settings(tmp_path, allowed_peers=["127.0.0.1/32"])
    async with running_ivr(settings) as line, rtp_recorder() as (_, sink):
        await _victim(line)
        # From says one number, the PBX asserts the caller's real one: the assertion wins.
        seen = await _callback_call(line, tmp_path, sink, calling=STRANGER)
    card = seen["ticket"].card["customer"]
    assert card["key"] == f"tel:{VICTIM}" and card["phone"] == VICTIM
    assert [o["number"] for o in card["orders"]] == [ORDER]
    assert [c["key"] for c in card["other_channels"]] == ["tg:4242"]
    assert seen["ticket"].callback_phone == VICTIM
