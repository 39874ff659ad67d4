"""Operator log-in and identity."""

from __future__ import annotations

import math
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from core.kinds import OperatorStatus
from handoff.deps import (
    BearerCredentials,
    CurrentOperator,
    HandoffDep,
    LoginsDep,
    OperatorStatusesDep,
    PresenceDep,
)
from handoff.operator_status import StatusCause, shown
from handoff.passwords import PasswordChecksBusy
from handoff.throttle import LoginThrottles

router = APIRouter(prefix="/api/operator", tags=["operator"])


class LoginRequest(BaseModel):
    login: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class OperatorPublic(BaseModel):
    id: int
    login: str
    display_name: str
    skills: list[str]
    languages: list[str]
    max_sessions: int
    console_language: str  # the language the operator's console is shown in
    role: str = "operator"  # or "supervisor"


class ColleaguePublic(OperatorPublic):
    # Has the console open now (so auto-offers can reach them).
    online: bool
    # available, break, after_call_work or offline (handoff.operator_status).
    status: str = "offline"


class LoginResponse(BaseModel):
    token: str
    expires_at: datetime
    operator: OperatorPublic


def _throttles(request: Request) -> LoginThrottles:
    """One per app: failures of one login or one address count together across requests."""
    if not hasattr(request.app.state, "login_throttles"):
        request.app.state.login_throttles = LoginThrottles.for_database(request.app.state.db_sessions)
    return request.app.state.login_throttles  # type: ignore[no-any-return]


@router.post(
    "/login",
    response_model=LoginResponse,
    responses={429: {"description": "too many failed log-ins for this login or from this address"}},
)
async def create_login(body: LoginRequest, logins: LoginsDep, request: Request) -> LoginResponse:
    throttles = _throttles(request)
    address = request.client.host if request.client else "unknown"
    wait = await throttles.attempt(body.login, address)
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail="too many failed log-ins: try again later",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    try:
        logged_in = await logins.log_in(body.login, body.password)
    except PasswordChecksBusy:
        await throttles.not_tried(body.login, address)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="too many log-ins at once: try again in a moment",
            headers={"Retry-After": "1"},
        ) from None
    if logged_in is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="wrong login or password")
    await throttles.succeeded(body.login, address)
    return LoginResponse(
        token=logged_in.token,
        expires_at=logged_in.expires_at,
        operator=OperatorPublic.model_validate(logged_in.operator, from_attributes=True),
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def create_logout(
    logins: LoginsDep,
    operator: CurrentOperator,
    credentials: BearerCredentials,
    statuses: OperatorStatusesDep,
) -> None:
    """The token stops working at once (also for the live event stream)."""
    await logins.log_out(credentials.credentials)
    await statuses.set(operator.id, OperatorStatus.OFFLINE, StatusCause.LOGGED_OUT)


@router.get("/me", response_model=OperatorPublic)
async def read_me(operator: CurrentOperator) -> OperatorPublic:
    return OperatorPublic.model_validate(operator, from_attributes=True)


@router.get("/operators", response_model=list[ColleaguePublic])
async def read_operators(
    handoff: HandoffDep, presence: PresenceDep, operator: CurrentOperator, statuses: OperatorStatusesDep
) -> list[ColleaguePublic]:
    """Everyone who can take a transfer, with skills, languages, whether they are online and their status."""
    online = await presence.since()
    recorded = await statuses.all()
    return [
        ColleaguePublic(
            **OperatorPublic.model_validate(o, from_attributes=True).model_dump(),
            online=o.id in online,
            status=shown(recorded.get(o.id), o.id in online),
        )
        for o in await handoff.operators()
    ]
