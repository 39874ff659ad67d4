"""The only reader of environment variables: every process builds one Settings and passes parts down."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class DbSettings(BaseModel):
    url: str = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'frontline.db'}"
    echo: bool = False
    # Connections kept open to a server database, and how many more a burst may open.
    pool_size: int = 20
    max_overflow: int = 30


class RasaSettings(BaseModel):
    url: str = "http://127.0.0.1:5005"
    # Several Rasa servers sharing one tracker store, each conversation kept to one, as a JSON list:
    # FRONTLINE_RASA__URLS='["http://127.0.0.1:5005","http://127.0.0.1:5006"]'. Empty: `url` alone.
    urls: list[str] = Field(default_factory=list)
    token: SecretStr = SecretStr("")
    connect_timeout: float = 2.0
    # A turn that takes longer than this is treated as a bot failure: holding reply + operator.
    reply_timeout: float = 15.0
    # Retries only when the connection was refused, so a message is never processed twice.
    connect_retries: int = 2
    # Where Rasa keeps its trackers (slots, forms, pauses), so a restart loses none: an SQLAlchemy
    # URL for Rasa's own SQLAlchemy 1.4 (e.g. postgresql://user:pw@host/rasa). "" = beside the app's
    # data: a `<db>_rasa` database on the same PostgreSQL server, or `<file>-rasa.db` beside SQLite.
    tracker_store_url: SecretStr = SecretStr("")
    # Rasa's cost per turn grows with the tracker's length: after this many customer turns a session
    # moves to a fresh Rasa conversation that carries its slots, form and latest turns (0: never).
    rollover_turns: int = Field(30, ge=0)
    # Rasa's lock store while several servers share the trackers (one server locks in memory):
    # redis://[:password@]host:port/db.
    lock_store_url: SecretStr = SecretStr("redis://127.0.0.1:6379/1")

    @property
    def servers(self) -> list[str]:
        """Every Rasa server's base URL, without a trailing slash."""
        return [url.rstrip("/") for url in self.urls or [self.url]]


class ActionsSettings(BaseModel):
    """The rasa-sdk action server (our `actions/` package), reached by Rasa only."""

    host: str = "127.0.0.1"
    port: int = 5055


class TelegramSettings(BaseModel):
    """The Telegram channel; it starts with the app when a bot token is set."""

    token: SecretStr = SecretStr("")
    # Telegram's own, or a self-hosted Bot API server (tests point it at a fake).
    api_base_url: str = "https://api.telegram.org"
    mode: Literal["polling", "webhook"] = "polling"
    # Webhook mode: the public HTTPS address Telegram posts to (ends with /telegram/webhook).
    webhook_url: str = ""
    webhook_secret: SecretStr = SecretStr("")
    # Long-polling wait per getUpdates call, in seconds.
    poll_timeout: int = 25
    # Attempts for one outgoing message on 5xx or network errors (429 waits as told, not counted).
    send_attempts: int = 6
    # Several app processes: a delivery waits at most this long for another process's delivery to
    # the same chat; beyond it the backlog sweep delivers later.
    delivery_wait_s: float = Field(60.0, gt=0)

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> TelegramSettings:
        secret = self.webhook_secret.get_secret_value()
        if self.token.get_secret_value() and self.mode == "webhook" and not secret:
            raise ValueError("telegram webhook mode needs FRONTLINE_TELEGRAM__WEBHOOK_SECRET")
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.token.get_secret_value())


class IvrSettings(BaseModel):
    """The voice channel: a SIP endpoint behind the contact centre's PBX or SIP trunk."""

    enabled: bool = False
    host: str = "127.0.0.1"  # the SIP (UDP) address; 0.0.0.0 for every interface
    port: int = 5060
    # Address put in Contact and SDP when `host` is a wildcard or behind NAT ("" = found per call).
    advertised_address: str = ""
    rtp_host: str = ""  # "" = the SIP host
    rtp_port_min: int = 16000
    rtp_port_max: int = 16999
    # The PBX queue calls are transferred to (REFER), e.g. sip:queue@pbx.example; "" = callbacks only.
    operator_uri: str = ""
    # Only these peers (addresses or networks, e.g. the PBX) may call; empty = anyone who reaches us.
    # Only their caller ids are trusted (link orders, cards, channels): with none listed, no call's is.
    allowed_peers: list[str] = Field(default_factory=list)
    # Vosk model directory per language; a language without one gets the digit menu only.
    model_dirs: dict[str, Path] = Field(default_factory=dict)
    default_language: str = "en"
    # No RTP from the caller for this long: the call is ended and counted as abandoned.
    silence_timeout_s: float = 20.0
    # Waiting for a key or an answer after a prompt ended, before the prompt is repeated.
    no_input_timeout_s: float = 6.0
    # Ringing before the answer: the caller hears ringback while the greeting is prepared.
    ring_s: float = 0.0
    # Free speech: warm recognisers per model (each about 20 MB warm, more with use).
    # Spares kept warm for the next utterances: as many as callers who may speak at once, so none
    # gets a cold recogniser (its first decode is 1-2 s slower).
    dictation_keep_idle: int = Field(2, ge=0)
    dictation_limit: int = Field(8, ge=1)  # in all; above it an utterance waits for one to come back
    dictation_max_uses: int = Field(20, ge=1)  # then a recogniser is replaced (its cache only grows)
    # A spoken menu choice heard with a lower mean word confidence is confirmed by key first.
    confirm_below: float = Field(0.8, ge=0.0, le=1.0)
    # Calls at once (ringing, answered or talking); above it INVITEs get 503 with Retry-After.
    # 0 = sized to the machine: one even RTP port per call, and 16 calls per core at most.
    max_calls: int = Field(0, ge=0)
    # Per source address that is not an allowed peer (allowed peers, the PBXs, carry every caller):
    # INVITEs per second with a burst, and answered calls still waiting for their ACK; beyond either
    # a new INVITE gets 503, so a flood that never ACKs holds only a few RTP ports, for 32 s at most.
    invite_rate_per_s: float = Field(5.0, gt=0)
    invite_burst: int = Field(10, ge=1)
    max_unacked_per_source: int = Field(4, ge=1)

    @model_validator(mode="after")
    def _ports_in_order(self) -> IvrSettings:
        if not 0 < self.rtp_port_min <= self.rtp_port_max < 65536:
            raise ValueError("ivr rtp_port_min must be <= rtp_port_max, both in 1..65535")
        if self.dictation_keep_idle > self.dictation_limit:
            raise ValueError("ivr dictation_keep_idle must not exceed dictation_limit")
        return self


class ScaleOutSettings(BaseModel):
    """Several app processes on one PostgreSQL database: who is online, who runs the singletons,
    how long a turn waits for another process's turn of the same customer."""

    # An open console renews its presence row this often; it stops counting after missed heartbeats.
    presence_heartbeat_s: float = Field(5.0, gt=0)
    presence_missed_heartbeats: int = Field(3, ge=2)
    # A turn waits at most this long for another process to finish the same customer's turn (a few
    # turns with Rasa's timeout); beyond it the turn fails as storage unavailable (503, retry).
    customer_lock_wait_s: float = Field(60.0, gt=0)
    # A process without the singleton lease tries to take it this often; the holder checks its
    # connection this often (a new holder starts after one check and a query's timeout).
    lease_try_every_s: float = Field(1.0, gt=0)
    lease_check_every_s: float = Field(2.0, gt=0)
    lease_query_timeout_s: float = Field(2.0, gt=0)
    # A console's stream ticket opens one stream, within this many seconds of being issued.
    stream_ticket_ttl_s: float = Field(60.0, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FRONTLINE_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    host: str = "127.0.0.1"
    port: int = 8080
    db: DbSettings = Field(default_factory=DbSettings)
    rasa: RasaSettings = Field(default_factory=RasaSettings)
    actions: ActionsSettings = Field(default_factory=ActionsSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    scale_out: ScaleOutSettings = Field(default_factory=ScaleOutSettings)
    ivr: IvrSettings = Field(default_factory=IvrSettings)
    model_path: Path = PROJECT_ROOT / "models" / "frontline.tar.gz"
    catalogue_path: Path = PROJECT_ROOT / "business" / "catalogue.yml"
    default_language: str = "en"
    # Telegram's own limit (4,096 UTF-16 units, never fewer code points): no messenger text is refused.
    max_text_length: int = 4096
    # A bot session with no activity for this long is closed; the next message starts a new one.
    session_idle_minutes: int = 60
    # A customer waiting longer than this for an operator is told so, and the wait counts as abandoned.
    queue_timeout_minutes: int = 30
    # Opening hours and holidays; outside them a person cannot answer, so a callback is offered.
    hours_path: Path = PROJECT_ROOT / "business" / "hours.yml"
    # A customer who has waited this long for an operator is offered a callback (0: never).
    callback_offer_after_minutes: int = 5
    # Offer each new ticket to the longest-idle free operator with the right skill and language.
    auto_offer: bool = False
    # How long an offered ticket stays reserved for that operator before it goes to the next one.
    offer_timeout_seconds: int = 20
    log_level: str = "INFO"
    # Requests with a larger body are refused (413) before they are read into memory.
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    # New web chat conversations one client address may open per minute (0: no limit).
    new_conversations_per_minute: int = Field(20, ge=0)
    # GET /metrics needs "Authorization: Bearer <this>"; empty: /metrics is off (404).
    metrics_token: SecretStr = SecretStr("")
    # Transcripts and cards of contacts closed longer ago than this are deleted daily (0: kept).
    retention_days: int = Field(0, ge=0)
    # Live events stay this long, so a console that reconnects catches up instead of reloading.
    live_event_retention_hours: int = Field(24, ge=1)


@lru_cache
def get_settings() -> Settings:
    """Settings from the environment; only composition roots call this."""
    return Settings()
