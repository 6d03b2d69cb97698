"""reminders by age of state

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 21:00:00

Each plan says how many days an entry may stay a draft, returned, waiting for its sign-off or for the committee's
decision before it is brought to whoever must act on it; state_reminder remembers each entry brought up, once per
version.
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('plan_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('draft_idle_days', sa.Integer(), server_default='14', nullable=False))
        batch_op.add_column(sa.Column('returned_idle_days', sa.Integer(), server_default='7', nullable=False))
        batch_op.add_column(sa.Column('review_wait_days', sa.Integer(), server_default='7', nullable=False))
    op.create_table('state_reminder',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_state_reminder_entry_id_entry'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', 'version', name=op.f('pk_state_reminder'))
    )


def downgrade() -> None:
    op.drop_table('state_reminder')
    for column in ('review_wait_days', 'returned_idle_days', 'draft_idle_days'):
        op.execute(f'ALTER TABLE plan_profile DROP COLUMN {column}')  # in place (SQLite 3.35+): no table rebuild
