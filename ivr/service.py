"""The voice channel inside the front-line process: builds the shared parts once, runs the endpoint."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.catalogue import load_catalogue
from core.settings import IvrSettings
from ivr.call import Call, CallDeps, CallSettings, synthesize
from ivr.contacts import CallContacts, CallCore
from ivr.menu import load_menu
from ivr.server import CallLeg, EndpointConfig, SipEndpoint
from ivr.sip.admission import default_max_calls
from ivr.spoken_text import sentences

logger = logging.getLogger(__name__)


class IvrService:
    def __init__(
        self,
        settings: IvrSettings,
        core: CallCore,
        db_sessions: async_sessionmaker[AsyncSession],
        catalogue_path: Any,
        *,
        speaker: Any = None,
        models: Any = None,
    ) -> None:
        catalogue = load_catalogue(catalogue_path)
        if speaker is None:
            from ivr.speech.synthesis import Speaker

            speaker = Speaker()
        owns_models = models is None and bool(settings.model_dirs)
        if owns_models:
            from ivr.speech.models import SpeechModels
            from ivr.speech.pool import PoolLimits

            dictation = PoolLimits(
                keep_idle=settings.dictation_keep_idle,
                max_idle=max(settings.dictation_keep_idle * 2, 1),
                limit=settings.dictation_limit,
                max_uses=settings.dictation_max_uses,
            )
            models = SpeechModels(dict(settings.model_dirs), dictation=dictation)
        self._owned_models = models if owns_models else None
        self._owns_speaker = speaker
        self.deps = CallDeps(
            menu=load_menu(default_language=settings.default_language),
            contacts=CallContacts(core, db_sessions, catalogue),
            speaker=speaker,
            settings=CallSettings(
                language=settings.default_language,
                operator_uri=settings.operator_uri or None,
                no_input_timeout_s=settings.no_input_timeout_s,
                silence_timeout_s=settings.silence_timeout_s,
                confirm_below=settings.confirm_below,
            ),
            models=models,
            company=catalogue.company,
        )
        self.endpoint = SipEndpoint(
            EndpointConfig(
                host=settings.host,
                port=settings.port,
                rtp_host=settings.rtp_host or settings.host,
                rtp_port_min=settings.rtp_port_min,
                rtp_port_max=settings.rtp_port_max,
                allowed_peers=tuple(settings.allowed_peers),
                advertised_address=settings.advertised_address or None,
                ring_s=settings.ring_s,
                max_calls=settings.max_calls
                or default_max_calls(settings.rtp_port_min, settings.rtp_port_max),
                invite_rate_per_s=settings.invite_rate_per_s,
                invite_burst=settings.invite_burst,
                max_unacked_per_source=settings.max_unacked_per_source,
            ),
            self._on_call,
        )
        self.calls: list[Call] = []
        self._warm_up: asyncio.Task[None] | None = None

    async def _on_call(self, leg: CallLeg) -> None:
        call = Call(leg, self.deps)
        self.calls = [*self.calls[-99:], call]  # recent calls, for logs and tests (no audio kept)
        await call.run()

    async def start(self) -> None:
        await self.endpoint.start()
        self._warm_up = asyncio.create_task(self._prepare(), name="ivr-warm-up")
        self._warm_up.add_done_callback(_report_failure)

    async def ready(self) -> None:
        """Wait until the first prompt is rendered and the default speech model loaded (tests, benches)."""
        if self._warm_up is not None:
            await asyncio.shield(self._warm_up)

    async def _prepare(self) -> None:
        """Load the default language's speech model (which starts warming its free-dictation
        recognisers) while the first prompt renders, before the first call, so nobody waits for either."""
        jobs = [self._render_first_prompt()]
        if self.deps.models is not None:  # aget logs and gives None itself when it cannot load
            jobs.append(self.deps.models.aget(self.deps.settings.language))
        await asyncio.gather(*jobs)

    async def _render_first_prompt(self) -> None:
        """Sentence by sentence, as calls play it (and cache it); with the words that offer speech."""
        menu, language = self.deps.menu, self.deps.settings.language
        greeting = menu.text("greeting", language, company=self.deps.company)
        first = f"{greeting} {menu.text('menu', language)} {menu.text('menu_speech', language)}"
        for sentence in sentences(first):
            await synthesize(self.deps.speaker, sentence, menu.language_of(language))

    async def stop(self) -> None:
        if self._warm_up is not None:
            self._warm_up.cancel()
        await self.endpoint.stop()
        if self._owned_models is not None:
            self._owned_models.close()


def _report_failure(task: asyncio.Task[None]) -> None:
    # Nothing awaits the warm-up: without this its failure would pass unseen (calls still work, slower).
    if not task.cancelled() and task.exception() is not None:
        logger.error("IVR warm-up failed: %r", task.exception())
