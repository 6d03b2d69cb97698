"""entry comments

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 16:30:00

The conversation on an entry between its institution and the monitoring body: comments are never edited (a
correction is a new comment naming the one it corrects) and may be marked resolved.
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('entry_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_name', sa.String(length=255), server_default='', nullable=False),
    sa.CheckConstraint('length(body) > 0', name=op.f('ck_entry_comment_body_required')),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_entry_comment_author_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['corrects_id'], ['entry_comment.id'], name=op.f('fk_entry_comment_corrects_id_entry_comment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_entry_comment_entry_id_entry'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entry_comment'))
    )
    with op.batch_alter_table('entry_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entry_comment_entry_id'), ['entry_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('entry_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entry_comment_entry_id'))
    op.drop_table('entry_comment')
