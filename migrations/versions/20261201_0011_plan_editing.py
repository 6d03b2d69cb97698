"""plan editing: confirmations, retirements, change history, UN parity targets

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 15:00:00

The monitoring body confirms derived items and retires items (objective, action, indicator gain nullable or
defaulted columns, added in place on SQLite); a target it sets says when and by whom; every other changed field
of the plan is kept in plan_change. The UN Uniformed Gender Parity Strategy's yearly targets move from a file
into un_parity_target, so admins can keep them; `tracker seed` copies in the years the file holds (a migration
adds no rows: a migrated instance stays empty for `tracker restore`).
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

LIFECYCLE = ('confirmed_on', 'confirmed_ref', 'confirmed_by', 'retired_at', 'retired_reason', 'retired_by')


def _lifecycle_columns() -> list[sa.Column]:
    return [
        sa.Column('confirmed_on', sa.Date(), nullable=True),
        sa.Column('confirmed_ref', sa.String(length=255), server_default='', nullable=False),
        sa.Column('confirmed_by', sa.String(length=255), server_default='', nullable=False),
        sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('retired_reason', sa.Text(), server_default='', nullable=False),
        sa.Column('retired_by', sa.String(length=255), server_default='', nullable=False),
    ]


def upgrade() -> None:
    for table in ('objective', 'action', 'indicator'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in _lifecycle_columns():
                batch_op.add_column(column)
    with op.batch_alter_table('indicator_target', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decided_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('decided_by', sa.String(length=255), server_default='', nullable=False))
    op.create_table('plan_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('item_kind', sa.Enum('plan', 'objective', 'action', 'indicator', name='plan_item_kind', native_enum=False, create_constraint=True, length=9), nullable=False),
    sa.Column('item_code', sa.String(length=40), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changed_by', sa.String(length=255), nullable=False),
    sa.Column('channel', sa.Enum('web', 'plan_file', 'spreadsheet', name='change_channel', native_enum=False, create_constraint=True, length=11), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(reason) > 0', name=op.f('ck_plan_change_reason_required')),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_plan_change_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_change'))
    )
    with op.batch_alter_table('plan_change', schema=None) as batch_op:
        batch_op.create_index('ix_plan_change_item', ['plan_id', 'item_kind', 'item_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_change_plan_id'), ['plan_id'], unique=False)
    op.create_table('un_parity_target',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('contingents', sa.Numeric(precision=6, scale=4), nullable=True),
    sa.Column('observers_staff', sa.Numeric(precision=6, scale=4), nullable=True),
    sa.Column('source', sa.String(length=255), nullable=False),
    sa.Column('changed_by', sa.String(length=255), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('contingents IS NULL OR (contingents >= 0 AND contingents <= 1)', name=op.f('ck_un_parity_target_contingents_share')),
    sa.CheckConstraint('observers_staff IS NULL OR (observers_staff >= 0 AND observers_staff <= 1)', name=op.f('ck_un_parity_target_observers_share')),
    sa.CheckConstraint('year BETWEEN 2018 AND 2028', name=op.f('ck_un_parity_target_strategy_years')),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_un_parity_target'))
    )


def downgrade() -> None:
    op.drop_table('un_parity_target')
    with op.batch_alter_table('plan_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_change_plan_id'))
        batch_op.drop_index('ix_plan_change_item')
    op.drop_table('plan_change')
    # In place (SQLite 3.35+), never a rebuild: the tables are referenced by entries.
    for column in ('decided_by', 'decided_on'):
        op.execute(f'ALTER TABLE indicator_target DROP COLUMN {column}')
    for table in ('objective', 'action', 'indicator'):
        for column in LIFECYCLE:
            op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
