"""institution sign-off, quality thresholds, reported totals

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 18:00:00

A plan may ask an institution's focal point to endorse its entries before they reach the monitoring body: a new
entry state (awaiting_signoff), the focal-point flag on accounts, who submitted and who signed off an entry, and
the institutions of each plan that sign off. Indicators gain the change threshold and expected range of their
data-quality flags; people-counting entries the total their source gives.
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

OLD_STATES = ('draft', 'submitted', 'returned', 'approved')
NEW_STATES = ('draft', 'awaiting_signoff', 'submitted', 'returned', 'approved')


def _in(states: tuple[str, ...]) -> str:
    return ", ".join(f"'{s}'" for s in states)


def _states(batch_op, table: str, states: tuple[str, ...]) -> None:
    batch_op.drop_constraint(op.f(f'ck_{table}_entry_state'), type_='check')
    batch_op.alter_column('state', existing_type=sa.String(length=9), type_=sa.String(length=max(map(len, states))),
                          existing_nullable=False)
    batch_op.create_check_constraint(op.f(f'ck_{table}_entry_state'), f"state IN ({_in(states)})")


def _action_status_rule(batch_op, pending: tuple[str, ...]) -> None:
    batch_op.drop_constraint(op.f('ck_entry_action_status_when_submitted'), type_='check')
    batch_op.create_check_constraint(op.f('ck_entry_action_status_when_submitted'),
                                     f"kind <> 'action' OR state NOT IN ({_in(pending)}) OR action_status IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table('entry', schema=None) as batch_op:
        _states(batch_op, 'entry', NEW_STATES)
        _action_status_rule(batch_op, ('awaiting_signoff', 'submitted', 'approved'))
        batch_op.add_column(sa.Column('reported_total', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('submitted_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('signoff_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('signoff_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_entry_submitted_by_id_user_account'), 'user_account',
                                    ['submitted_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_entry_signoff_by_id_user_account'), 'user_account',
                                    ['signoff_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint(op.f('ck_entry_reported_total_not_negative'),
                                         'reported_total IS NULL OR reported_total >= 0')
    with op.batch_alter_table('entry_version', schema=None) as batch_op:
        _states(batch_op, 'entry_version', NEW_STATES)
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_focal_point', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.add_column(sa.Column('change_threshold', sa.Numeric(precision=8, scale=4), nullable=True))
        batch_op.add_column(sa.Column('expected_min', sa.Numeric(precision=18, scale=4), nullable=True))
        batch_op.add_column(sa.Column('expected_max', sa.Numeric(precision=18, scale=4), nullable=True))
        batch_op.create_check_constraint(op.f('ck_indicator_change_threshold_positive'),
                                         'change_threshold IS NULL OR change_threshold > 0')
        batch_op.create_check_constraint(op.f('ck_indicator_expected_range_ordered'),
                                         'expected_min IS NULL OR expected_max IS NULL OR expected_min <= expected_max')
    op.create_table('signoff_requirement',
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('set_by', sa.String(length=255), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_signoff_requirement_institution_id_institution'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_signoff_requirement_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('plan_id', 'institution_id', name=op.f('pk_signoff_requirement'))
    )


def downgrade() -> None:
    # Entries waiting for a sign-off go back to the monitoring body: the step is gone with this revision.
    op.execute("UPDATE entry SET state = 'submitted' WHERE state = 'awaiting_signoff'")
    op.execute("UPDATE entry_version SET state = 'submitted' WHERE state = 'awaiting_signoff'")
    op.drop_table('signoff_requirement')
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_indicator_expected_range_ordered'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_indicator_change_threshold_positive'), type_='check')
        batch_op.drop_column('expected_max')
        batch_op.drop_column('expected_min')
        batch_op.drop_column('change_threshold')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('is_focal_point')
    with op.batch_alter_table('entry_version', schema=None) as batch_op:
        _states(batch_op, 'entry_version', OLD_STATES)
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_entry_reported_total_not_negative'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_entry_signoff_by_id_user_account'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_entry_submitted_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('signoff_by_id')
        batch_op.drop_column('signoff_at')
        batch_op.drop_column('submitted_by_id')
        batch_op.drop_column('reported_total')
        _action_status_rule(batch_op, ('submitted', 'approved'))
        _states(batch_op, 'entry', OLD_STATES)
