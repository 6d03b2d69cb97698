"""plan versions

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 15:10:00

A revision of a plan (a plan file with a higher version) keeps the version it replaces: its plan file as it
stood, the items retired by then, and when it stopped being in force.
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('plan_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title_es', sa.String(length=255), nullable=False),
    sa.Column('title_en', sa.String(length=255), nullable=False),
    sa.Column('adoption_year', sa.Integer(), nullable=True),
    sa.Column('source_document', sa.String(length=255), nullable=False),
    sa.Column('snapshot', sa.Text(), nullable=False),
    sa.Column('retired_items', sa.Text(), nullable=False),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('superseded_by', sa.String(length=255), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.CheckConstraint('version >= 1', name=op.f('ck_plan_version_version_positive')),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_plan_version_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_version')),
    sa.UniqueConstraint('plan_id', 'version', name=op.f('uq_plan_version_plan_id_version'))
    )


def downgrade() -> None:
    op.drop_table('plan_version')
