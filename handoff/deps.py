"""Dependencies of the operator routes: the services, and the operator behind a bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from core.models import Operator
from core.schemas import MAX_ROW_ID
from handoff.logins import Logins
from handoff.presence import Presence
from handoff.service import HandoffService

TicketId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]

_bearer = HTTPBearer(auto_error=False, description="token from POST /api/operator/login")


def get_handoff(request: Request) -> HandoffService:
    return request.app.state.handoff  # type: ignore[no-any-return]


def get_logins(request: Request) -> Logins:
    return request.app.state.logins  # type: ignore[no-any-return]


def get_presence(request: Request) -> Presence:
    return request.app.state.presence  # type: ignore[no-any-return]


async def current_operator(
    logins: Annotated[Logins, Depends(get_logins)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Operator:
    """Every operator route answers 401 without a valid, unexpired token."""
    operator = await logins.operator_for_token(credentials.credentials) if credentials else None
    if operator is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="log in first: POST /api/operator/login, then send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return operator


HandoffDep = Annotated[HandoffService, Depends(get_handoff)]
LoginsDep = Annotated[Logins, Depends(get_logins)]
PresenceDep = Annotated[Presence, Depends(get_presence)]
CurrentOperator = Annotated[Operator, Depends(current_operator)]
# The raw bearer token of a request that passed `current_operator` (log-out revokes it).
BearerCredentials = Annotated[HTTPAuthorizationCredentials, Depends(_bearer)]
