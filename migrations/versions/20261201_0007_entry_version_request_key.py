"""entry version request key

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:05:00

The key of the form submission that made a version: a second click on "Save" finds its own first save
by it and is told so, instead of "someone else saved". A new nullable column: SQLite adds it in place.
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('entry_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_key', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('entry_version', schema=None) as batch_op:
        batch_op.drop_column('request_key')
