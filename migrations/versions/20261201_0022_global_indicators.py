"""global indicators and the public page

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 22:30:00

An indicator may name the matching global indicator (UN S/2010/498 set, SDG 5.5.x / 16.x); open data exports carry it.
A plan's public page is off until its committee turns it on; people counts below its threshold (default 5) are
suppressed there.
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.add_column(sa.Column('global_indicator', sa.String(length=40), server_default='', nullable=False))
    with op.batch_alter_table('plan_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('public_threshold', sa.Integer(), server_default='5', nullable=False))


def downgrade() -> None:
    for table, column in (('plan_profile', 'public_threshold'), ('plan_profile', 'public'), ('indicator', 'global_indicator')):
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')  # in place (SQLite 3.35+): no table rebuild
