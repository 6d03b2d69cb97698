"""final report mark

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:20:00

The last final-report version each plan's year was given: a restore of an older backup must not let
a number that was already published be given again.
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('final_report_mark',
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_version', sa.Integer(), nullable=False),
    sa.CheckConstraint('last_version >= 1', name=op.f('ck_final_report_mark_last_version_positive')),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_final_report_mark_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('plan_id', 'year', name=op.f('pk_final_report_mark'))
    )
    # Numbers given before this table existed.
    op.execute("INSERT INTO final_report_mark (plan_id, year, last_version) "
               "SELECT plan_id, year, max(version) FROM final_report GROUP BY plan_id, year")


def downgrade() -> None:
    op.drop_table('final_report_mark')
