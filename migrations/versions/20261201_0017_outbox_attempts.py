"""outbox attempts

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 20:00:00

E-mails are delivered by a background job that retries with backoff: the outbox keeps how many deliveries failed
and when the last one was tried, which admins see on /admin/outbox. Added in place (no table rebuild).
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('last_attempt_at')
        batch_op.drop_column('attempts')
