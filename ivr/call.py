"""One call's flow: greeting, digit (and speech) menu, barge-in, order look-up, handoff, hang-up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any, Protocol

from ivr import g711
from ivr.contacts import CallContacts, caller_key, caller_phone
from ivr.dtmf import EventDigits, ToneDetector
from ivr.menu import Menu
from ivr.server import CallLeg
from ivr.speech.keywords import find_keyword
from ivr.spoken_text import sentences, spoken_replies

logger = logging.getLogger(__name__)

BACK = "*"
END_OF_NUMBER = "#"
# A spoken menu choice whose words were heard with a lower mean confidence is confirmed first.
# Korean model, espeak-ng audio: keywords 0.86-1.0; other sentences taken for a choice mostly
# 0.4-0.75, though some at 1.0 (those still slip through: the model has no "[unk]").
CONFIRM_BELOW = 0.8
# Sentences of a prompt rendered ahead of the one playing: enough that a short sentence does not run
# out before a long one is rendered on a busy core, few enough that other calls' prompts, queued
# behind on the one espeak-ng thread, do not wait long.
RENDER_AHEAD = 2


class Speaker(Protocol):
    async def synthesize(self, text: str, language: str) -> bytes: ...


@dataclass(frozen=True)
class CallSettings:
    language: str
    operator_uri: str | None
    no_input_timeout_s: float
    silence_timeout_s: float
    inter_digit_timeout_s: float = 5.0
    confirm_below: float = CONFIRM_BELOW


@dataclass
class CallDeps:
    """Shared by every call: built once by the IVR service."""

    menu: Menu
    contacts: CallContacts
    speaker: Speaker
    settings: CallSettings
    models: Any = None  # ivr.speech.models.SpeechModels, or None: digits only
    company: str = ""


@dataclass(frozen=True)
class Digit:
    key: str


@dataclass(frozen=True)
class Silence:
    """No media from the caller for the silence timeout: the line is dead or the caller gone."""


@dataclass
class Answer:
    """What the caller gave in answer to a prompt."""

    digits: str = ""
    text: str = ""  # free speech, recognised
    entry: str | None = None  # a menu entry recognised from speech
    confidence: float = 1.0  # of the words that said the entry; keys are certain
    timed_out: bool = False
    terminated: bool = False  # ended with the terminator key


class CallOver(Exception):
    """The line went silent; the flow stops and the call is recorded as abandoned."""


@dataclass
class _Speech:
    """Speech recognition for one call: its ear (endpointer, keyword and free recognisers), keywords."""

    listener: Any  # ivr.speech.live.Listener
    keywords: dict[str, list[str]]
    pool: Any  # the model's shared free-dictation pool (ivr.speech.pool.RecognizerPool), or None


class Call:
    def __init__(self, leg: CallLeg, deps: CallDeps) -> None:
        self.leg = leg
        self.deps = deps
        self.menu = deps.menu
        # The session's language (speech model, keywords, bot); prompts fall back to the menu's
        # default language where the menu file has no text in it.
        self.language = deps.settings.language
        self.key = caller_key(leg.caller, leg.call_id, verified=leg.caller_verified)
        self.phone = caller_phone(leg.caller)
        self.session_id = 0
        self._inputs: asyncio.Queue[object] = asyncio.Queue(200)
        self._speech: _Speech | None = None
        self._events = EventDigits()
        self._tones: ToneDetector | None = None if leg.dtmf_events else ToneDetector()
        self._outcome = "caller_hung_up"
        self._end_by = ""
        self.log: list[str] = []  # every prompt played, in order (tests and logs read it)

    # --- the call ----------------------------------------------------------------------------

    async def run(self) -> None:
        self.leg.on_info_digit = lambda key: self._put(Digit(key))
        # The session first: the speech model may still be loading (seconds, at start-up), and a
        # caller who hangs up meanwhile must still be on record.
        self.session_id = await self.deps.contacts.start(
            self.key, self.language, self.phone, verified=self.leg.caller_verified
        )
        media: asyncio.Task[None] | None = None
        try:
            self._speech = await self._load_speech()
            logger.info("call answered call_id=%s session_id=%s speech=%s", self.leg.call_id,
                        self.session_id, self._speech is not None)  # fmt: skip
            media = asyncio.create_task(self._receive(), name=f"media-{self.leg.call_id[:16]}")
            await self._main_menu()
        except CallOver:
            self._outcome, self._end_by = "abandoned", "silence_timeout"
        finally:
            if media is not None:
                media.cancel()
            await asyncio.shield(self._finish())

    async def _finish(self) -> None:
        if self._speech is not None:
            self._speech.listener.close()  # an utterance under way gives its recogniser back
            if self._speech.pool is not None:
                self._speech.pool.remove_caller()
        self._speech = None  # the grammar recognisers go with the call; free dictation is the pool's
        abandoned = self._outcome == "abandoned"
        if self._outcome in ("abandoned", "caller_hung_up", "goodbye"):
            with contextlib.suppress(Exception):
                by = self._end_by or self._outcome
                await self.deps.contacts.end(self.session_id, abandoned=abandoned, by=by)
        logger.info("call ended call_id=%s outcome=%s", self.leg.call_id, self._outcome)

    async def _main_menu(self) -> None:
        greeting = self.menu.text("greeting", self.language, company=self.deps.company)
        prefix, failures = greeting, 0
        while True:
            answer = await self.ask(f"{prefix} {self._menu_prompt(failures)}".strip())
            prefix = ""
            entry = answer.entry or (self.menu.entry(answer.digits[:1]) if answer.digits else None)
            if entry is not None:
                doubtful = answer.confidence < self.deps.settings.confirm_below
                if doubtful and not await self._confirmed(entry, answer):
                    continue  # back to the menu
                failures = 0
                if await self._serve(entry, answer):
                    return
                continue
            if answer.text:
                failures = 0
                if await self._free_speech(answer.text):
                    return
                continue
            failures += 1
            heard_nothing = answer.timed_out and not answer.digits
            if failures >= 3:
                if heard_nothing:
                    await self._say(self.menu.text("goodbye", self.language))
                    self._outcome, self._end_by = "abandoned", "no_input"
                    return
                await self._to_operator("no_match")
                return
            prefix = self.menu.text("no_input" if heard_nothing else "no_match", self.language)

    def _menu_prompt(self, failures: int) -> str:
        parts = [self.menu.text("menu", self.language)]
        if self._speech is not None:
            parts.append(self.menu.text("menu_speech", self.language))
        if failures >= 2:
            parts.append(self.menu.text("offer_operator", self.language))
        return " ".join(parts)

    async def _serve(self, entry: str, answer: Answer) -> bool:
        """Run a menu entry; True when the call is over."""
        await self._note(heard=answer.digits or answer.text, meta={"menu": entry})
        if entry == "tariffs":
            await self._say_noted(self.menu.tariffs_text(self.deps.contacts.catalogue, self.language))
            return False
        if entry == "order_status":
            await self._order_status()
            return False
        if entry == "new_connection":
            return await self._new_connection()
        return await self._to_operator("customer_request")

    async def _confirmed(self, entry: str, heard: Answer) -> bool:
        """Ask "did you ask for ...?" about a choice heard with low confidence: only key 1 acts on it.

        Keys only: with the Korean model a spoken answer is no proof (in a yes/no grammar other
        sentences were heard as "yes" with confidence 1.0); words here send the caller back to the menu.
        """
        choice = self.menu.choice(entry, self.language)
        reply = await self.ask(self.menu.text("confirm_choice", self.language, choice=choice), listen=False)
        confirmed = reply.digits[:1] == "1"
        logger.info("spoken choice confirmed=%s call_id=%s entry=%s confidence=%.2f", confirmed,
                    self.leg.call_id, entry, heard.confidence)  # fmt: skip
        return confirmed

    # --- entries -----------------------------------------------------------------------------

    async def _order_status(self) -> None:
        size = self.menu.order_number_digits
        for _ in range(2):
            answer = await self.ask(
                self.menu.text("order_prompt", self.language), max_digits=size + 1, terminator=END_OF_NUMBER
            )
            if answer.digits.startswith(BACK):
                return
            number = answer.digits
            if len(number) != size or not number.isdigit():
                await self._say(self.menu.text("order_bad_number", self.language))
                continue
            await self._note(heard=number, meta={"order_number": number})
            try:
                order = await self.deps.contacts.order(number)
            except Exception:
                logger.exception("order look-up failed call_id=%s", self.leg.call_id)
                await self._say_noted(self.menu.text("lookup_failed", self.language))
                return
            if order is None:
                text = self.menu.text("order_not_found", self.language, number=" ".join(number))
            else:
                text = self.menu.order_text(order, self.deps.contacts.catalogue, self.language)
            await self._say_noted(text)
            return

    async def _new_connection(self) -> bool:
        if self.phone is None:
            await self._say_noted(self.menu.text("no_number", self.language))
            self._outcome = "goodbye"
            return True
        await self.deps.contacts.callback(
            self.session_id, self.phone, reason="new_connection", topic="orders",
            summary=self.menu.summary("new_connection", self.language),
        )  # fmt: skip
        await self._say(self.menu.text("new_connection_done", self.language))
        self._outcome = "callback"
        return True

    async def _to_operator(self, reason: str) -> bool:
        """The card is queued first, then the PBX is asked to transfer; without a queue URI, a callback.

        When the bot has queued the session already, queueing again returns that waiting ticket, so
        the REFER names it either way."""
        uri = self.deps.settings.operator_uri
        if not uri:
            return await self._offer_callback(reason)
        key = "operator_request" if reason == "customer_request" else "not_understood"
        summary = self.menu.summary(key, self.language)
        ticket = await self.deps.contacts.escalate(self.session_id, summary, reason)
        await self._say_noted(self.menu.text("transferring", self.language))
        target = _with_headers(
            uri, {"X-Frontline-Session": str(self.session_id), "X-Frontline-Ticket": str(ticket or "")}
        )
        if await self.leg.transfer(target):
            self._outcome = "transferred"
            return True
        await self._say_noted(self.menu.text("transfer_failed", self.language))
        return await self._offer_callback(reason)

    async def _offer_callback(self, reason: str) -> bool:
        if self.phone is None:
            await self._say_noted(self.menu.text("no_number", self.language))
            self._outcome = "goodbye"
            return True
        offer = self.menu.text("callback_offer", self.language)
        await self._note(said=offer)
        answer = await self.ask(offer)
        if answer.digits[:1] != "1" and answer.entry != "operator":
            return False  # back to the menu
        await self._note(heard=answer.digits or answer.text, meta={"callback": True})
        await self.deps.contacts.callback(
            self.session_id, self.phone, reason=reason, topic="general",
            summary=self.menu.summary("callback", self.language),
        )  # fmt: skip
        await self._say(self.menu.text("callback_done", self.language))
        self._outcome = "callback"
        return True

    async def _free_speech(self, text: str) -> bool:
        """Anything else the caller said goes to the bot, like a chat message; the reply is spoken."""
        result = await self.deps.contacts.turn(self.key, text, self.language, self.leg.call_id)
        spoken = spoken_replies(result.replies, self.menu.text("offer_operator", self.language))
        if result.state == "queued":
            if spoken:
                await self._say(spoken)
            return await self._to_operator("bot_handoff")
        if spoken:
            await self._say(spoken)
        return result.state == "closed"

    # --- speaking and listening ------------------------------------------------------------------

    async def ask(
        self, prompt: str, *, max_digits: int = 1, terminator: str | None = None, listen: bool = True
    ) -> Answer:
        """Play a prompt and collect the answer; a key or the caller's voice stops the prompt.

        listen=False: words answer nothing (an empty answer) and are not recognised.
        """
        self._drop_stale_speech()
        # A key or words given ahead answer at once: not even the prompt's first frame is sent.
        speak = self._play(prompt) if self._inputs.empty() else asyncio.sleep(0)
        playing = asyncio.create_task(speak, name=f"prompt-{self.leg.call_id[:16]}")
        answer = Answer()
        try:
            while True:
                if playing.done():
                    timeout = (
                        self.deps.settings.inter_digit_timeout_s
                        if answer.digits
                        else self.deps.settings.no_input_timeout_s
                    )
                else:
                    timeout = None
                event = await self._next_input(playing, timeout)
                if event is None:
                    if playing.done() and timeout is not None:
                        if self.leg.held:
                            continue  # a caller who put us on hold has not failed to answer
                        answer.timed_out = True
                        return answer
                    continue
                playing.cancel()  # barge-in
                if isinstance(event, Silence):
                    raise CallOver
                if isinstance(event, Digit):
                    if event.key == terminator:
                        answer.terminated = True
                        return answer
                    answer.digits += event.key
                    if len(answer.digits) >= max_digits or (max_digits > 1 and event.key == BACK):
                        return answer
                elif _is_utterance(event):
                    return await self._understand(event) if listen else Answer()
        finally:
            playing.cancel()

    async def _next_input(self, playing: asyncio.Task[None], timeout: float | None) -> object | None:
        getter = asyncio.ensure_future(self._inputs.get())
        waits: set[asyncio.Future[Any]] = {getter}
        if not playing.done():
            waits.add(playing)
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if getter.done():
            return getter.result()
        getter.cancel()
        return None

    async def _understand(self, spoken: Any) -> Answer:
        """A menu keyword, else free speech; both were decoded while the caller spoke (ivr.speech.live)."""
        speech = self._speech
        assert speech is not None
        heard = await spoken.keywords.heard()
        found = find_keyword([word.word for word in heard.words], speech.keywords)
        if found is not None:
            confidence = heard.confidence(found.positions)  # of the words that said the phrase
            return Answer(text=heard.text, entry=found.entry, confidence=confidence)
        free = await spoken.dictation.heard()
        return Answer(text=free.text.strip())

    async def _say(self, text: str) -> None:
        """Speak without listening for choices (keys still stop it)."""
        playing = asyncio.create_task(self._play(text))
        try:
            while not playing.done():
                event = await self._next_input(playing, None)
                if isinstance(event, Silence):
                    raise CallOver
                if isinstance(event, Digit) or _is_utterance(event):
                    playing.cancel()
                    self._put(event)  # a key or words during a statement answer the next question
                    return
                if event is not None:  # the caller started speaking: stop talking (barge-in)
                    playing.cancel()
        finally:
            playing.cancel()

    async def _say_noted(self, text: str) -> None:
        await self._note(said=text)
        await self._say(text)

    async def _play(self, text: str) -> None:
        self.log.append(text)
        await self.leg.rtp.play_parts(self._rendered(text))

    async def _rendered(self, text: str) -> AsyncGenerator[bytes, None]:
        """The text's audio sentence by sentence: the next ones render while this one plays, so the
        caller hears the first one before the whole text is rendered. A sentence that cannot be
        rendered is left out (the caller hears less, but keys still work and the call goes on)."""
        language = self.menu.language_of(self.language)
        plus = f" {self.menu.text('plus', self.language)} "  # "Home 300 + Mobile"
        ahead: deque[asyncio.Future[bytes | None]] = deque()  # queued in turn: one espeak-ng thread
        try:
            for sentence in (s.replace(" + ", plus) for s in sentences(text)):
                ahead.append(asyncio.ensure_future(synthesize(self.deps.speaker, sentence, language)))
                if len(ahead) > RENDER_AHEAD and (pcm := await ahead.popleft()):
                    yield pcm
            while ahead:
                if pcm := await ahead.popleft():
                    yield pcm
        finally:
            for render in ahead:
                render.cancel()  # barge-in: the render itself runs on (and is cached)

    async def _note(
        self, *, heard: str | None = None, said: str | None = None, meta: dict[str, Any] | None = None
    ) -> None:
        try:
            await self.deps.contacts.note(self.session_id, heard=heard, said=said, meta=meta)
        except Exception:  # the transcript is best effort; the caller must not be dropped for it
            logger.exception("could not store call transcript call_id=%s", self.leg.call_id)

    def _put(self, event: object) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self._inputs.put_nowait(event)

    def _drop_stale_speech(self) -> None:
        """Keys and words the caller gave ahead stay; a mere "speech started" that led nowhere goes."""
        kept = []
        while not self._inputs.empty():
            event = self._inputs.get_nowait()
            if isinstance(event, Digit | Silence) or _is_utterance(event):
                kept.append(event)
        for event in kept:
            self._put(event)

    # --- media in ----------------------------------------------------------------------------

    async def _receive(self) -> None:
        """RTP in -> digits (RFC 4733 or tones) and utterances; silence for too long ends the call."""
        inbox = self.leg.rtp.protocol.inbox
        buffer = b""
        while True:
            try:
                packet = await asyncio.wait_for(inbox.get(), self.deps.settings.silence_timeout_s)
            except TimeoutError:
                if self.leg.held:
                    continue  # on hold nothing is sent to us, on purpose
                self._put(Silence())
                return
            media = self.leg.media
            if packet.payload_type == media.event_payload_type and media.event_payload_type is not None:
                key = self._events.feed(packet.timestamp, packet.payload, packet.marker)
                if key is not None:
                    self._put(Digit(key))
                continue
            if packet.payload_type != media.payload_type:
                continue
            pcm = g711.decode(packet.payload, media.codec)
            if self._tones is not None:
                for key in self._tones.feed(pcm):
                    self._put(Digit(key))
            if self._speech is None:
                continue
            buffer += pcm
            while len(buffer) >= g711.FRAME_BYTES_PCM:
                frame, buffer = buffer[: g711.FRAME_BYTES_PCM], buffer[g711.FRAME_BYTES_PCM :]
                event = self._speech.listener.feed(frame)
                if event is not None:
                    self._put(event)

    async def _load_speech(self) -> _Speech | None:
        models = self.deps.models
        if models is None:
            return None
        model = await models.aget(self.language)
        if model is None:
            return None
        from ivr.speech.endpointing import Endpointer
        from ivr.speech.keywords import load_keywords, recognizer_phrases
        from ivr.speech.live import Listener
        from ivr.speech.recognizer import CallRecognizer

        pool = models.dictation(self.language)
        if pool is not None:
            pool.add_caller()  # a warm spare for this call's first words, from now on
        # A grammar recogniser is about 1 MB and built on first use: one per call is cheap.
        keywords = CallRecognizer(model, phrases=recognizer_phrases(self.language))
        dictation = pool.lend if pool is not None else CallRecognizer(model).utterance
        listener = Listener(Endpointer(), keywords.utterance, dictation, self.leg.call_id[:16])
        return _Speech(listener=listener, keywords=load_keywords(self.language), pool=pool)


async def synthesize(speaker: Speaker, text: str, language: str, attempts: int = 2) -> bytes | None:
    """A prompt's audio; a failed render is tried once more (espeak-ng through pyttsx3 has been
    seen to end a render early), then the prompt is skipped rather than the call dropped."""
    for attempt in range(1, attempts + 1):
        try:
            return await speaker.synthesize(text, language)
        except Exception as exc:
            logger.warning("prompt not synthesised (attempt %s): %s", attempt, exc)
    return None


def _is_utterance(event: object) -> bool:
    return hasattr(event, "pcm")  # ivr.speech.live.Spoken, imported only with a model


def _with_headers(uri: str, headers: dict[str, str]) -> str:
    """URI headers (RFC 3261 19.1.1) for the Refer-To target: the PBX copies them to the new call."""
    query = "&".join(f"{name}={value}" for name, value in headers.items() if value)
    if not query:
        return uri
    return f"{uri}{'&' if '?' in uri else '?'}{query}"
