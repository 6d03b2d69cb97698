"""country profiles and plan-scoped membership

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 12:40:00

Each country's time zone, currency and locale; each plan's profile (budget vocabulary, notes), its
monitoring bodies and their members, the institutions its budget clause binds, the plans a viewer is
limited to, and a note per indicator. New columns are nullable or have a server default, so SQLite
adds them in place (a rebuild of a referenced table would cascade).

Upgrading keeps what each account could do: every plan gets a monitoring body, and every committee
account becomes a member of each.
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('country', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), server_default='UTC', nullable=False))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('locale', sa.String(length=16), server_default='en', nullable=False))
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note_es', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('note_en', sa.Text(), server_default='', nullable=False))
    op.create_table('plan_profile',
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('budget_profile', sa.Enum('pe_mef', 'generic', name='budget_profile', native_enum=False, create_constraint=True, length=7), nullable=False),
    sa.Column('targets_note_es', sa.Text(), nullable=False),
    sa.Column('targets_note_en', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_plan_profile_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('plan_id', name=op.f('pk_plan_profile'))
    )
    op.create_table('monitoring_body',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_es', sa.String(length=255), nullable=False),
    sa.Column('name_en', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_monitoring_body_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_body')),
    sa.UniqueConstraint('plan_id', 'code', name=op.f('uq_monitoring_body_plan_id_code'))
    )
    op.create_table('budget_binding',
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_budget_binding_institution_id_institution'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_budget_binding_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('plan_id', 'institution_id', name=op.f('pk_budget_binding'))
    )
    op.create_table('body_member',
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['body_id'], ['monitoring_body.id'], name=op.f('fk_body_member_body_id_monitoring_body'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_body_member_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('body_id', 'user_id', name=op.f('pk_body_member'))
    )
    op.create_table('viewer_plan',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_viewer_plan_plan_id_plan'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_viewer_plan_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'plan_id', name=op.f('pk_viewer_plan'))
    )
    _keep_what_accounts_could_do()


def _keep_what_accounts_could_do() -> None:
    op.execute("UPDATE country SET timezone = 'America/Lima', currency = 'PEN', locale = 'es_PE' WHERE iso_code = 'PE'")
    op.execute("INSERT INTO plan_profile (plan_id, budget_profile, targets_note_es, targets_note_en) "
               "SELECT plan.id, CASE WHEN country.iso_code = 'PE' THEN 'pe_mef' ELSE 'generic' END, '', '' "
               "FROM plan JOIN country ON country.id = plan.country_id")
    # Peru's body as its plan file names it, so that the next `tracker seed` keeps it (and its members) active.
    op.execute("INSERT INTO monitoring_body (plan_id, code, name_es, name_en, active, position) "
               "SELECT plan.id, 'CIG-MINDEF', 'Comité de Igualdad de Género del Ministerio de Defensa', "
               "'Gender Equality Committee of the Ministry of Defense', true, 0 "
               "FROM plan JOIN country ON country.id = plan.country_id WHERE country.iso_code = 'PE'")
    op.execute("INSERT INTO monitoring_body (plan_id, code, name_es, name_en, active, position) "
               "SELECT plan.id, 'COMMITTEE', 'Comité de seguimiento', 'Monitoring committee', true, 0 "
               "FROM plan JOIN country ON country.id = plan.country_id WHERE country.iso_code <> 'PE'")
    op.execute("INSERT INTO body_member (body_id, user_id, added_at) "
               "SELECT monitoring_body.id, user_account.id, CURRENT_TIMESTAMP FROM monitoring_body, user_account "
               "WHERE user_account.role = 'committee'")


def downgrade() -> None:
    op.drop_table('viewer_plan')
    op.drop_table('body_member')
    op.drop_table('budget_binding')
    op.drop_table('monitoring_body')
    op.drop_table('plan_profile')
    # In place, never by rebuilding: a rebuilt country or indicator table would be dropped under its
    # foreign keys (refused, or cascading into targets and entries). SQLite drops columns since 3.35.
    for table, column in (('indicator', 'note_en'), ('indicator', 'note_es'),
                          ('country', 'locale'), ('country', 'currency'), ('country', 'timezone')):
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
