"""reserved: filled by the change that needs the next schema step

A no-op placeholder so that several changes in progress can each own one migration number.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 17:55:00
"""

from __future__ import annotations

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
