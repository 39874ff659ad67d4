"""A Rasa server whose machine hangs (the connection times out before it is made) hands its
conversations to the next server, as one that refuses does: the request surely never arrived."""

from __future__ import annotations

from core.dialogue import RasaClient
from core.rasa_servers import ranked
from core.settings import RasaSettings
from testing.ports import hung_port
from tests.unit.core.test_dialogue_servers import SENDERS, StandIn, _started, stand_ins  # noqa: F401


async def test_a_server_that_does_not_answer_the_connection_hands_its_turns_to_the_next(
    stand_ins: list[StandIn],  # noqa: F811
) -> None:
    answering = await _started(stand_ins)
    with hung_port() as port:
        hung = f"http://127.0.0.1:{port}"
        rasa = RasaClient(RasaSettings(urls=[hung, answering.url], connect_timeout=0.3, connect_retries=0))
        moved = [s for s in SENDERS if ranked([hung, answering.url], s)[0] == hung]
        assert moved  # some conversations belong to the hung server
        try:
            for sender in moved:
                assert await rasa.send(sender, "hi", {}) == [{"text": f"hello {sender}"}]
        finally:
            await rasa.aclose()
    assert answering.senders() == set(moved)
