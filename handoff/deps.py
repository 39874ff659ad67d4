"""Dependencies of the operator routes: the services, and the operator behind a bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select

from core.kinds import OperatorRole
from core.models import Operator
from core.schemas import MAX_ROW_ID
from handoff.logins import Logins
from handoff.operator_status import OperatorStatuses
from handoff.presence import Presence
from handoff.service import HandoffService
from handoff.supervision import Supervision

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


async def current_supervisor(
    request: Request, operator: Annotated[Operator, Depends(current_operator)]
) -> Operator:
    """Supervisor routes answer 403 to an operator without the role. The log-in cache may hold the
    operator from before a supervisor gave them the role: a refusal looks again. (A role taken
    back stops working within the cache's 30 s.)"""
    if operator.role != OperatorRole.SUPERVISOR:
        async with request.app.state.db_sessions() as db:
            operator.role = await db.scalar(select(Operator.role).where(Operator.id == operator.id))
    if operator.role != OperatorRole.SUPERVISOR:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="supervisors only: a supervisor (or `python -m handoff.operators role`) gives the role",
        )
    return operator


def get_supervision(request: Request) -> Supervision:
    return request.app.state.supervision  # type: ignore[no-any-return]


def get_operator_statuses(request: Request) -> OperatorStatuses:
    return request.app.state.operator_statuses  # type: ignore[no-any-return]


HandoffDep = Annotated[HandoffService, Depends(get_handoff)]
LoginsDep = Annotated[Logins, Depends(get_logins)]
PresenceDep = Annotated[Presence, Depends(get_presence)]
CurrentOperator = Annotated[Operator, Depends(current_operator)]
# The raw bearer token of a request that passed `current_operator` (log-out revokes it).
BearerCredentials = Annotated[HTTPAuthorizationCredentials, Depends(_bearer)]
CurrentSupervisor = Annotated[Operator, Depends(current_supervisor)]
SupervisionDep = Annotated[Supervision, Depends(get_supervision)]
OperatorStatusesDep = Annotated[OperatorStatuses, Depends(get_operator_statuses)]
