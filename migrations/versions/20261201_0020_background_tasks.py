"""background tasks

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 21:30:00

A final report, or an import or template beyond TRACKER_BACKGROUND_ROWS rows, is done by a background task whose
row holds its progress and its outcome for the page that follows it (tracker.tasks).
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('background_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'done', 'failed', name='task_state', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('params_json', sa.Text(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('result_json', sa.Text(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_background_task_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_background_task'))
    )
    with op.batch_alter_table('background_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_background_task_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_table('background_task')
