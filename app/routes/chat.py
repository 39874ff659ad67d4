"""HTTP chat channel: used by tests, the terminal chat and any web widget."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.chat_credentials import ForeignConversation, check_or_issue, opens
from core.conversation import ConversationService
from core.errors import InvalidTurn
from core.ratelimit import Limit, window_limit
from core.repo.sessions import CLIENT_MESSAGE_ID
from core.schemas import MAX_ROW_ID, InboundTurn

router = APIRouter(prefix="/api", tags=["chat"])

MAX_TEXT_LENGTH = 4000


class ChatRequest(BaseModel):
    customer: str = Field(min_length=1, max_length=128, description="The customer's id in your system")
    text: str = Field(
        min_length=1, max_length=MAX_TEXT_LENGTH, description="What the customer wrote, or a button payload"
    )
    language: str | None = Field(
        default=None,
        description="The widget's language (en, ru, ar, fa); omitted: read from what the customer writes",
        min_length=2,
        max_length=16,
        pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$",
    )

    message_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="Your id for this message (e.g. a UUID): a retry with the same id after a lost "
        "response is not stored twice, and gets the replies it missed",
    )

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must not be blank")
        if "\x00" in value:
            raise ValueError("text must not contain NUL characters")
        return value

    @field_validator("language")
    @classmethod
    def _base_language(cls, value: str | None) -> str | None:
        """ "ru-RU" -> "ru": the bot's texts are kept per base language."""
        return value.split("-")[0].lower() if value else None

    @field_validator("customer")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.isprintable() or not value.strip():
            raise ValueError("customer must be printable and not blank")
        return value


class ButtonPublic(BaseModel):
    title: str
    payload: str


class ReplyPublic(BaseModel):
    text: str
    buttons: list[ButtonPublic] = []


class ChatResponse(BaseModel):
    replies: list[ReplyPublic]
    state: Literal["bot", "queued", "operator", "closed"]
    session_id: int
    token: str | None = Field(
        default=None,
        description="Only on a customer id's first turn: send it as 'Authorization: Bearer <token>' "
        "with every later request for this customer (the conversation is refused without it)",
    )


class MessagePublic(BaseModel):
    id: int
    author: Literal["bot", "operator", "system"]
    text: str
    buttons: list[ButtonPublic] = []
    at: datetime


class MessagesResponse(BaseModel):
    state: Literal["bot", "queued", "operator", "closed"]
    messages: list[MessagePublic]


def get_conversations(request: Request) -> ConversationService:
    return request.app.state.conversations  # type: ignore[no-any-return]


def get_db_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    return request.app.state.db_sessions  # type: ignore[no-any-return]


_bearer = HTTPBearer(auto_error=False, description="the token from the customer's first turn")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
DbSessions = Annotated[async_sessionmaker[AsyncSession], Depends(get_db_sessions)]


def _not_yours() -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail="this customer id has a conversation: send the token its first reply gave, "
        "as 'Authorization: Bearer <token>' (or start with a new customer id)",
        headers={"WWW-Authenticate": "Bearer"},
    )


def _new_conversations(request: Request) -> Limit | None:
    """New conversations (customer ids) one client address may open per minute: a widget opens one
    per visitor; a script inventing ids to fill the database or the operators' queue is stopped."""
    per_minute = request.app.state.settings.new_conversations_per_minute
    if not per_minute:
        return None
    if not hasattr(request.app.state, "new_conversations"):
        # Shared by every app process on PostgreSQL: spreading requests over them gains nothing.
        sessions = request.app.state.db_sessions
        request.app.state.new_conversations = window_limit(sessions, "new-conversations", per_minute, 60.0)
    return request.app.state.new_conversations  # type: ignore[no-any-return]


@router.post(
    "/chat",
    response_model=ChatResponse,
    response_model_exclude_none=True,
    responses={429: {"description": "too many new conversations from this address"}},
)
async def create_chat_turn(
    body: ChatRequest,
    request: Request,
    conversations: Annotated[ConversationService, Depends(get_conversations)],
    db_sessions: DbSessions,
    credentials: Bearer,
) -> ChatResponse:
    """One customer turn: stored first, then answered by the bot (or queued for a person)."""
    key = f"web:{body.customer}"
    token = await _open_conversation(request, db_sessions, key, credentials, body.message_id)
    turn = InboundTurn(
        customer_key=key,
        channel="web",
        text=body.text,
        language=body.language,
        metadata={CLIENT_MESSAGE_ID: body.message_id} if body.message_id else {},
    )
    try:
        result = await conversations.handle_turn(turn)
    except InvalidTurn as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return ChatResponse(
        replies=[
            ReplyPublic(
                text=r.text,
                buttons=[ButtonPublic(title=b.title, payload=b.payload) for b in r.buttons],
            )
            for r in result.replies
        ],
        state=result.state,  # type: ignore[arg-type]
        session_id=result.session_id,
        token=token,
    )


async def _open_conversation(
    request: Request,
    db_sessions: async_sessionmaker[AsyncSession],
    key: str,
    credentials: HTTPAuthorizationCredentials | None,
    message_id: str | None,
) -> str | None:
    """None for a request that carries the conversation's token; the new token of a new one."""
    token = credentials.credentials if credentials else None
    limit, address = _new_conversations(request), request.client.host if request.client else "unknown"
    if token is None and limit is not None and (wait := await limit.retry_after(address)) is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail="too many new conversations from this address: try again later",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    try:
        issued = await check_or_issue(db_sessions, key, token, message_id)
    except ForeignConversation as exc:
        raise _not_yours() from exc
    if issued is not None and limit is not None:
        await limit.count(address)
    return issued


@router.get("/chat/{customer}/messages", response_model=MessagesResponse)
async def read_chat_messages(
    customer: Annotated[str, Path(min_length=1, max_length=128)],
    conversations: Annotated[ConversationService, Depends(get_conversations)],
    db_sessions: DbSessions,
    credentials: Bearer,
    after: Annotated[int, Query(ge=0, le=MAX_ROW_ID, description="the last message id the client has")] = 0,
) -> MessagesResponse:
    """Messages for the customer after `after`: how a widget receives operator replies (poll it)."""
    if not await opens(db_sessions, f"web:{customer}", credentials.credentials if credentials else None):
        raise _not_yours()
    state, messages = await conversations.messages_since(f"web:{customer}", after)
    return MessagesResponse(
        state=state,  # type: ignore[arg-type]
        messages=[
            MessagePublic(
                id=m.id,
                author=m.author,  # type: ignore[arg-type]
                text=m.text,
                buttons=[ButtonPublic(**b) for b in (m.payload or {}).get("buttons", [])],
                at=m.created_at,
            )
            for m in messages
        ],
    )
