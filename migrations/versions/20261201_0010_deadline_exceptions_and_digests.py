"""deadline exceptions and digests

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 13:30:00

An institution's own deadline for a cycle (an extension with its reason), and when a notification went
out in an e-mail digest. The new column is nullable: SQLite adds it in place.
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deadline_exception',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(reason) > 0', name=op.f('ck_deadline_exception_reason_required')),
    sa.ForeignKeyConstraint(['cycle_id'], ['reporting_cycle.id'], name=op.f('fk_deadline_exception_cycle_id_reporting_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['granted_by_id'], ['user_account.id'], name=op.f('fk_deadline_exception_granted_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_deadline_exception_institution_id_institution'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_exception')),
    sa.UniqueConstraint('cycle_id', 'institution_id', name=op.f('uq_deadline_exception_cycle_id_institution_id'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digested_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute('ALTER TABLE notification DROP COLUMN digested_at')  # in place (SQLite 3.35+), never a rebuild
    op.drop_table('deadline_exception')
