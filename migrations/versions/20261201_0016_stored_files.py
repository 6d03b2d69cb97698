"""stored files in the database

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 19:30:00

With TRACKER_STORAGE=database, stored files (evidence, final reports, pending imports) live in stored_file, under
the key they have in the upload folder: several app servers share them, and one database backup holds them.
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stored_file',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('stored_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('size = length(data)', name=op.f('ck_stored_file_size_matches')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_stored_file'))
    )


def downgrade() -> None:
    op.drop_table('stored_file')
