"""An operator's own preferences: the language the console is shown in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Operator
from handoff.console_texts import LANGUAGES
from handoff.deps import CurrentOperator
from handoff.routes.operators import OperatorPublic

router = APIRouter(prefix="/api/operator", tags=["operator"])


class ConsoleLanguageBody(BaseModel):
    language: str = Field(max_length=8)

    @field_validator("language")
    @classmethod
    def _known(cls, language: str) -> str:
        # Any other code is refused with 422 and the list of the known ones.
        if language not in LANGUAGES:
            raise ValueError(f"unknown console language: choose one of {', '.join(LANGUAGES)}")
        return language


def _db_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    return request.app.state.db_sessions  # type: ignore[no-any-return]


@router.put("/me/console-language", response_model=OperatorPublic)
async def update_console_language(
    body: ConsoleLanguageBody,
    operator: CurrentOperator,
    db_sessions: Annotated[async_sessionmaker[AsyncSession], Depends(_db_sessions)],
) -> OperatorPublic:
    """Remembered for the operator, so every browser they log in on shows the console in it."""
    async with db_sessions() as db, db.begin():
        await db.execute(
            update(Operator).where(Operator.id == operator.id).values(console_language=body.language)
        )
    # The log-in cache holds this same object: GET /me answers with the new language at once.
    operator.console_language = body.language
    return OperatorPublic.model_validate(operator, from_attributes=True)
