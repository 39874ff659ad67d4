"""An operator's own status (available, break, after-call work, offline), set in the console."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from core.kinds import OperatorStatus
from handoff.deps import CurrentOperator, OperatorStatusesDep
from handoff.operator_status import StatusCause, StatusNow

router = APIRouter(prefix="/api/operator", tags=["operator"])


class StatusBody(BaseModel):
    status: OperatorStatus


class StatusPublic(BaseModel):
    status: OperatorStatus
    since: datetime | None = Field(description="when it was set; null when never recorded")


@router.get("/me/status", response_model=StatusPublic)
async def read_status(statuses: OperatorStatusesDep, operator: CurrentOperator) -> StatusPublic:
    return _public(await statuses.now(operator.id))


@router.put("/me/status", response_model=StatusPublic)
async def update_status(
    body: StatusBody, statuses: OperatorStatusesDep, operator: CurrentOperator
) -> StatusPublic:
    """On a break or in after-call work you get no auto-offers (you may still claim); colleagues and
    supervisors see the status live. Closing the console or logging out sets offline."""
    return _public(await statuses.set(operator.id, body.status, StatusCause.CHOSEN))


def _public(now: StatusNow) -> StatusPublic:
    return StatusPublic(status=now.status, since=now.since)
