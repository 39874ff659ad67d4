"""The only reader of environment variables: every process builds one Settings and passes parts down."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr
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
    token: SecretStr = SecretStr("")
    connect_timeout: float = 2.0
    # A turn that takes longer than this is treated as a bot failure: holding reply + operator.
    reply_timeout: float = 15.0
    # Retries only when the connection was refused, so a message is never processed twice.
    connect_retries: int = 2


class ActionsSettings(BaseModel):
    """The rasa-sdk action server (our `actions/` package), reached by Rasa only."""

    host: str = "127.0.0.1"
    port: int = 5055


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FRONTLINE_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    host: str = "127.0.0.1"
    port: int = 8080
    db: DbSettings = Field(default_factory=DbSettings)
    rasa: RasaSettings = Field(default_factory=RasaSettings)
    actions: ActionsSettings = Field(default_factory=ActionsSettings)
    model_path: Path = PROJECT_ROOT / "models" / "frontline.tar.gz"
    catalogue_path: Path = PROJECT_ROOT / "business" / "catalogue.yml"
    default_language: str = "en"
    max_text_length: int = 4000
    # A bot session with no activity for this long is closed; the next message starts a new one.
    session_idle_minutes: int = 60
    # A customer waiting longer than this for an operator is told so, and the wait counts as abandoned.
    queue_timeout_minutes: int = 30
    log_level: str = "INFO"


@lru_cache
def get_settings() -> Settings:
    """Settings from the environment; only composition roots call this."""
    return Settings()
