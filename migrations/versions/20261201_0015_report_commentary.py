"""report commentary

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 19:00:00

The committee's commentary on a year's report, per pillar and for the whole plan (findings, recommendations).
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_commentary',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=40), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('recommendations', sa.Text(), nullable=False),
    sa.Column('updated_by', sa.String(length=255), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('year BETWEEN 1900 AND 2200', name=op.f('ck_report_commentary_year_range')),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_report_commentary_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_commentary')),
    sa.UniqueConstraint('plan_id', 'year', 'scope', name=op.f('uq_report_commentary_plan_id_year_scope'))
    )


def downgrade() -> None:
    op.drop_table('report_commentary')
