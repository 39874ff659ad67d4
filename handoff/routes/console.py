"""The operator web console: one static page; every piece of data comes from the authenticated API."""

from __future__ import annotations

from pathlib import Path

import yaml
from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from core.kinds import LiveEventKind
from handoff.console_texts import DEFAULT_LANGUAGE, LANGUAGES, TextsUnreadable, direction, texts_for

router = APIRouter(tags=["console"])

HANDOFF_DIR = Path(__file__).resolve().parent.parent
STATIC_DIR = HANDOFF_DIR / "static"
CANNED_REPLIES = HANDOFF_DIR / "canned_replies.yml"

# The only files served, with their content types: nothing else in the folder is reachable.
STATIC_FILES: dict[str, str] = {
    "console.html": "text/html; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}
# Each feature's console part: its own script and style next to the console's, loaded after it.
FEATURES = ("assist", "mood", "supervisor", "status", "card")
for _feature in FEATURES:
    STATIC_FILES[f"console-{_feature}.js"] = "text/javascript; charset=utf-8"
    STATIC_FILES[f"console-{_feature}.css"] = "text/css; charset=utf-8"
# Only the stream's own farewell to a log-in is not for the console's scripts.
CONSOLE_LIVE_KINDS = [kind.value for kind in LiveEventKind if kind is not LiveEventKind.LOGGED_OUT]

# The page loads only its own script and style and talks only to this server.
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class ConsoleLanguage(BaseModel):
    code: str
    name: str  # in the language itself, as its operators look for it in a list
    dir: str


class ConsoleConfig(BaseModel):
    languages: list[ConsoleLanguage]
    default_language: str
    live_kinds: list[str]  # every live event the console listens for and hands to its features


class ConsoleTexts(BaseModel):
    language: str
    dir: str
    texts: dict[str, str]


class CannedReply(BaseModel):
    title: str = Field(min_length=1, max_length=80)
    text: str = Field(min_length=1, max_length=4000)


_CANNED = TypeAdapter(dict[str, list[CannedReply]])


def load_canned_replies(path: Path = CANNED_REPLIES) -> dict[str, list[CannedReply]]:
    """Replies per language code; read on each request, so an edited file needs no restart."""
    with path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    return _CANNED.validate_python(raw)


def _static(name: str) -> FileResponse:
    return FileResponse(STATIC_DIR / name, media_type=STATIC_FILES[name], headers=_PAGE_HEADERS)


@router.get("/console", include_in_schema=False)
async def read_console() -> FileResponse:
    """The page holds no data, so it needs no log-in; the operator logs in on it."""
    return _static("console.html")


@router.get("/console/static/{name}", include_in_schema=False)
async def read_console_file(name: str) -> FileResponse:
    if name not in STATIC_FILES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such console file")
    return _static(name)


@router.get("/console/canned-replies.json", response_model=dict[str, list[CannedReply]])
async def read_canned_replies() -> dict[str, list[CannedReply]]:
    """Ready-made replies keyed by language code (en, ru, ar, fa), for the reply box."""
    try:
        return load_canned_replies()
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise HTTPException(
            status.HTTP_500_INTERNAL_SERVER_ERROR, detail=f"canned replies unreadable: {exc}"
        ) from exc


@router.get("/console/config.json", response_model=ConsoleConfig)
async def read_console_config() -> ConsoleConfig:
    return ConsoleConfig(
        languages=[ConsoleLanguage(code=c, name=n, dir=direction(c)) for c, n in LANGUAGES.items()],
        default_language=DEFAULT_LANGUAGE,
        live_kinds=CONSOLE_LIVE_KINDS,
    )


@router.get("/console/texts/{language}.json", response_model=ConsoleTexts)
async def read_console_texts(language: str) -> ConsoleTexts:
    """Every console text in one language (English where a text is not translated yet); public like
    the page itself, since the log-in form needs them before anyone is logged in."""
    if language not in LANGUAGES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no console texts in {language!r}")
    try:
        texts = texts_for(language)
    except (OSError, yaml.YAMLError, TextsUnreadable) as exc:
        raise HTTPException(
            status.HTTP_500_INTERNAL_SERVER_ERROR, detail=f"console texts unreadable: {exc}"
        ) from exc
    return ConsoleTexts(language=language, dir=direction(language), texts=texts)
