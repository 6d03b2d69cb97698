"""scheduled reminders

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 20:30:00

Each plan says on which days before an institution's deadline its reporters are reminded (default 14, 7 and 1);
`tracker remind --scheduled` sends each reminder once, remembered in scheduled_reminder.
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('plan_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_days', sa.String(length=40), server_default='14,7,1', nullable=False))
    op.create_table('scheduled_reminder',
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('days_before', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['reporting_cycle.id'], name=op.f('fk_scheduled_reminder_cycle_id_reporting_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_scheduled_reminder_institution_id_institution'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cycle_id', 'institution_id', 'days_before', name=op.f('pk_scheduled_reminder'))
    )


def downgrade() -> None:
    op.drop_table('scheduled_reminder')
    op.execute('ALTER TABLE plan_profile DROP COLUMN reminder_days')  # in place (SQLite 3.35+): no table rebuild
