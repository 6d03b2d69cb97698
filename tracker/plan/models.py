"""The plan structure: any country's National Action Plan on Women, Peace and Security."""

from __future__ import annotations

import enum
from datetime import date, datetime, timezone
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db import Base, Code, LongText, ShortText, Timestamp, UTCDateTime, enum_column, intpk


class Verification(enum.StrEnum):
    """How sure we are that a seeded item is the plan's own wording."""

    verbatim = "verbatim"  # wording from the source document
    summary = "summary"  # from a secondary summary of the plan
    derived = "derived"  # written by us from an action's text, to be confirmed by the committee


class PillarKind(enum.StrEnum):
    participation = "participation"
    prevention = "prevention"
    protection = "protection"
    relief_recovery = "relief_recovery"
    other = "other"


class PlanTab(enum.StrEnum):
    """The eight tabs every plan has in the public NAP database."""

    actors = "actors"
    timeframe = "timeframe"
    objectives = "objectives"
    actions = "actions"
    indicators = "indicators"
    monitoring = "monitoring"
    budget = "budget"
    disarmament = "disarmament"


class ObjectiveLevel(enum.StrEnum):
    general = "general"
    specific = "specific"


class Measure(enum.StrEnum):
    number = "number"
    percentage = "percentage"
    qualitative = "qualitative"
    yes_no = "yes_no"


class Direction(enum.StrEnum):
    increase = "increase"
    decrease = "decrease"
    maintain = "maintain"


class Frequency(enum.StrEnum):
    annual = "annual"
    semiannual = "semiannual"
    quarterly = "quarterly"
    once = "once"


class InstitutionKind(enum.StrEnum):
    ministry = "ministry"
    armed_forces = "armed_forces"
    committee = "committee"
    government = "government"
    other = "other"


class BudgetProfile(enum.StrEnum):
    """How a plan's budget items are classified (the budget clause's vocabulary)."""

    pe_mef = "pe_mef"  # Peru's public budget (MEF): pliego, unidad ejecutora, meta, PIA, PIM... and the spending-portal CSV
    generic = "generic"  # budget line, allocated, executed, funding source


class ResponsibilityRole(enum.StrEnum):
    lead = "lead"
    support = "support"


class Language(enum.StrEnum):
    es = "es"
    en = "en"


class Provenance:
    """Where a plan item came from: document, section, how faithful, and its original language."""

    source_document: Mapped[str] = mapped_column(sa.String(255))
    source_section: Mapped[str] = mapped_column(sa.String(255), default="")
    verification: Mapped[Verification] = enum_column(Verification, "verification")
    original_language: Mapped[Language] = enum_column(Language, "original_language", default=Language.en)


class Lifecycle:
    """What the monitoring body decided about a plan item after it was loaded: a derived item confirmed (on the
    date of the session, with its minute's reference), or an item retired (kept with its history and data, no
    longer asked for)."""

    confirmed_on: Mapped[date | None] = mapped_column(sa.Date)
    confirmed_ref: Mapped[str] = mapped_column(sa.String(255), default="", server_default="")
    confirmed_by: Mapped[str] = mapped_column(sa.String(255), default="", server_default="")
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_reason: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    retired_by: Mapped[str] = mapped_column(sa.String(255), default="", server_default="")

    @property
    def retired(self) -> bool:
        return self.retired_at is not None

    @hybrid_method
    def in_force(self, year: int) -> bool:
        """Whether the item is still asked for in the cycle of `year`. Retired during year Y, it is not expected
        from the cycles of Y on; earlier years keep counting it, so their reports stay as they were. The year
        is retired_at's in UTC, not the plan's country's: the column is stored in UTC, so the SQL form below
        compares with one constant and both forms agree on every database."""
        return self.retired_at is None or self.retired_at.astimezone(timezone.utc).year > year

    @in_force.expression
    def in_force(cls, year: int) -> sa.ColumnElement[bool]:
        """The same rule as a WHERE clause: not retired, or retired on or after 1 January of the next year (UTC)."""
        return sa.or_(cls.retired_at.is_(None), cls.retired_at >= datetime(year + 1, 1, 1, tzinfo=timezone.utc))

    @property
    def awaiting_confirmation(self) -> bool:
        """Derived by the tracker team and not yet confirmed (nor rejected) by the monitoring body."""
        return self.verification == Verification.derived and self.confirmed_on is None and self.retired_at is None


class PlanItemKind(enum.StrEnum):
    """The plan items the monitoring body edits."""

    plan = "plan"
    objective = "objective"
    action = "action"
    indicator = "indicator"


class ChangeChannel(enum.StrEnum):
    """How a plan change arrived."""

    web = "web"
    plan_file = "plan_file"
    spreadsheet = "spreadsheet"


class Country(Base):
    __tablename__ = "country"

    id: Mapped[intpk]
    iso_code: Mapped[str] = mapped_column(sa.String(2), unique=True)
    name_es: Mapped[ShortText]
    name_en: Mapped[ShortText]
    cedaw_ratification_year: Mapped[int | None]
    gender_gap_rank: Mapped[int | None]
    gender_gap_of: Mapped[int | None]
    gender_gap_year: Mapped[int | None]
    att_ratification_year: Mapped[int | None]
    military_expenditure_amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    military_expenditure_currency: Mapped[str | None] = mapped_column(sa.String(3))
    military_expenditure_year: Mapped[int | None]
    data_source: Mapped[str] = mapped_column(sa.String(255), default="")
    # The country profile: deadlines are read in its time zone, amounts in its currency, numbers in its locale.
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC", server_default="UTC")
    currency: Mapped[str | None] = mapped_column(sa.String(3))  # ISO 4217
    locale: Mapped[str] = mapped_column(sa.String(16), default="en", server_default="en")

    __table_args__ = (
        sa.CheckConstraint("gender_gap_rank IS NULL OR gender_gap_rank <= gender_gap_of", "gender_gap_rank"),
        sa.CheckConstraint("military_expenditure_amount IS NULL OR military_expenditure_amount >= 0", "milex"),
    )


class Institution(Base):
    __tablename__ = "institution"

    id: Mapped[intpk]
    country_id: Mapped[int] = mapped_column(sa.ForeignKey("country.id", ondelete="RESTRICT"))
    code: Mapped[Code]
    name_es: Mapped[ShortText]
    name_en: Mapped[ShortText]
    kind: Mapped[InstitutionKind] = enum_column(InstitutionKind, "institution_kind")
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("institution.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)

    country: Mapped[Country] = relationship()
    parent: Mapped[Institution | None] = relationship(remote_side="Institution.id")

    __table_args__ = (sa.UniqueConstraint("country_id", "code"),)


class Plan(Provenance, Base):
    __tablename__ = "plan"

    id: Mapped[intpk]
    country_id: Mapped[int] = mapped_column(sa.ForeignKey("country.id", ondelete="RESTRICT"))
    code: Mapped[Code] = mapped_column(unique=True)
    version: Mapped[int] = mapped_column(default=1)
    title_es: Mapped[ShortText]
    title_en: Mapped[ShortText]
    adoption_year: Mapped[int | None]
    start_year: Mapped[int | None]
    end_year: Mapped[int | None]
    lead_institution_id: Mapped[int | None] = mapped_column(sa.ForeignKey("institution.id", ondelete="SET NULL"))
    summary_es: Mapped[str] = mapped_column(sa.Text, default="")
    summary_en: Mapped[str] = mapped_column(sa.Text, default="")

    country: Mapped[Country] = relationship()
    lead_institution: Mapped[Institution | None] = relationship()
    sections: Mapped[list[PlanSection]] = relationship(
        back_populates="plan", order_by="PlanSection.position", cascade="all, delete-orphan"
    )
    pillars: Mapped[list[Pillar]] = relationship(
        back_populates="plan", order_by="Pillar.position", cascade="all, delete-orphan"
    )
    profile: Mapped[PlanProfile | None] = relationship(
        back_populates="plan", cascade="all, delete-orphan", uselist=False, lazy="joined"
    )
    bodies: Mapped[list[MonitoringBody]] = relationship(
        back_populates="plan", order_by="MonitoringBody.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint("version >= 1", "version_positive"),
        sa.CheckConstraint("start_year IS NULL OR end_year IS NULL OR start_year <= end_year", "timeframe_order"),
    )


class PlanProfile(Base):
    """What a plan says about itself beyond its text: its budget vocabulary and its notes to readers."""

    __tablename__ = "plan_profile"

    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True)
    budget_profile: Mapped[BudgetProfile] = enum_column(BudgetProfile, "budget_profile", default=BudgetProfile.generic)
    # Shown where an indicator has no targets (e.g. "the official matrix is not available yet").
    targets_note_es: Mapped[str] = mapped_column(sa.Text, default="")
    targets_note_en: Mapped[str] = mapped_column(sa.Text, default="")
    # Days before an institution's deadline on which its reporters are reminded of what they have not submitted
    # (`tracker remind --scheduled`, e.g. daily from deploy/nap-tracker-reminders.timer).
    reminder_days: Mapped[str] = mapped_column(sa.String(40), default="14,7,1", server_default="14,7,1")
    # Days an entry may stay in one state before it is brought to whoever must act on it (0: never): a draft nobody
    # saved, a returned entry not resubmitted, an entry waiting for its sign-off or for the committee's decision.
    draft_idle_days: Mapped[int] = mapped_column(default=14, server_default="14")
    returned_idle_days: Mapped[int] = mapped_column(default=7, server_default="7")
    review_wait_days: Mapped[int] = mapped_column(default=7, server_default="7")
    # The public transparency page (/public/<code>): shown once the committee turns it on; people counts below the
    # threshold are suppressed there and in its open data.
    public: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    public_threshold: Mapped[int] = mapped_column(default=5, server_default="5")

    plan: Mapped[Plan] = relationship(back_populates="profile")


class MonitoringBody(Base):
    """A body that reviews a plan's entries (the Gender Equality Committee for Peru's). A plan may have
    several over time; only the active ones review."""

    __tablename__ = "monitoring_body"

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"))
    code: Mapped[Code]
    name_es: Mapped[ShortText]
    name_en: Mapped[ShortText]
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)

    plan: Mapped[Plan] = relationship(back_populates="bodies")

    __table_args__ = (sa.UniqueConstraint("plan_id", "code"),)


class BudgetBinding(Base):
    """An institution the plan's budget clause binds (none listed: every institution with assigned items)."""

    __tablename__ = "budget_binding"

    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institution.id", ondelete="RESTRICT"), primary_key=True)

    institution: Mapped[Institution] = relationship()


class PlanSection(Provenance, Base):
    """The narrative of one of the eight NAP-database tabs for a plan."""

    __tablename__ = "plan_section"

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"))
    tab: Mapped[PlanTab] = enum_column(PlanTab, "plan_tab")
    position: Mapped[int] = mapped_column(default=0)
    text_es: Mapped[str] = mapped_column(sa.Text, default="")
    text_en: Mapped[str] = mapped_column(sa.Text, default="")

    plan: Mapped[Plan] = relationship(back_populates="sections")

    __table_args__ = (sa.UniqueConstraint("plan_id", "tab"),)


class PlanActor(Provenance, Base):
    """An institution that took part in drafting the plan."""

    __tablename__ = "plan_actor"

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"))
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institution.id", ondelete="RESTRICT"))
    representatives: Mapped[int | None]
    role_es: Mapped[str] = mapped_column(sa.String(255), default="")
    role_en: Mapped[str] = mapped_column(sa.String(255), default="")
    position: Mapped[int] = mapped_column(default=0)

    institution: Mapped[Institution] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("plan_id", "institution_id"),
        sa.CheckConstraint("representatives IS NULL OR representatives >= 0", "representatives"),
    )


class MonitoringParticipant(Provenance, Base):
    """An institution taking part in the plan's monitoring and evaluation."""

    __tablename__ = "monitoring_participant"

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"))
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institution.id", ondelete="RESTRICT"))
    role_es: Mapped[str] = mapped_column(sa.String(255), default="")
    role_en: Mapped[str] = mapped_column(sa.String(255), default="")
    position: Mapped[int] = mapped_column(default=0)

    institution: Mapped[Institution] = relationship()

    __table_args__ = (sa.UniqueConstraint("plan_id", "institution_id"),)


class Pillar(Provenance, Base):
    __tablename__ = "pillar"

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"))
    code: Mapped[Code]
    kind: Mapped[PillarKind] = enum_column(PillarKind, "pillar_kind")
    name_es: Mapped[ShortText]
    name_en: Mapped[ShortText]
    overview_es: Mapped[str] = mapped_column(sa.Text, default="")
    overview_en: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    plan: Mapped[Plan] = relationship(back_populates="pillars")

    __table_args__ = (sa.UniqueConstraint("plan_id", "code"),)


class Objective(Provenance, Lifecycle, Base):
    __tablename__ = "objective"

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"))
    code: Mapped[Code]
    level: Mapped[ObjectiveLevel] = enum_column(ObjectiveLevel, "objective_level")
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("objective.id", ondelete="SET NULL"))
    pillar_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pillar.id", ondelete="SET NULL"))
    text_es: Mapped[str] = mapped_column(sa.Text, default="")
    text_en: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    parent: Mapped[Objective | None] = relationship(remote_side="Objective.id")
    pillar: Mapped[Pillar | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("plan_id", "code"),
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", "not_own_parent"),
    )


class Action(Provenance, Lifecycle, Base):
    __tablename__ = "action"

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"))
    pillar_id: Mapped[int] = mapped_column(sa.ForeignKey("pillar.id", ondelete="RESTRICT"))
    objective_id: Mapped[int | None] = mapped_column(sa.ForeignKey("objective.id", ondelete="SET NULL"))
    code: Mapped[Code]
    text_es: Mapped[str] = mapped_column(sa.Text, default="")
    text_en: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    pillar: Mapped[Pillar] = relationship()
    objective: Mapped[Objective | None] = relationship()
    institutions: Mapped[list[ActionInstitution]] = relationship(
        back_populates="action", cascade="all, delete-orphan", order_by="ActionInstitution.position"
    )

    __table_args__ = (sa.UniqueConstraint("plan_id", "code"),)


class ActionInstitution(Base):
    """An institution responsible for an action, as lead or in support."""

    __tablename__ = "action_institution"

    action_id: Mapped[int] = mapped_column(sa.ForeignKey("action.id", ondelete="CASCADE"), primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institution.id", ondelete="RESTRICT"), primary_key=True
    )
    role: Mapped[ResponsibilityRole] = enum_column(ResponsibilityRole, "responsibility_role")
    verification: Mapped[Verification] = enum_column(Verification, "verification")
    position: Mapped[int] = mapped_column(default=0)

    action: Mapped[Action] = relationship(back_populates="institutions")
    institution: Mapped[Institution] = relationship()


class Indicator(Provenance, Lifecycle, Base):
    __tablename__ = "indicator"

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"))
    code: Mapped[Code]
    pillar_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pillar.id", ondelete="RESTRICT"))
    objective_id: Mapped[int | None] = mapped_column(sa.ForeignKey("objective.id", ondelete="SET NULL"))
    action_id: Mapped[int | None] = mapped_column(sa.ForeignKey("action.id", ondelete="SET NULL"))
    name_es: Mapped[str] = mapped_column(sa.Text, default="")
    name_en: Mapped[str] = mapped_column(sa.Text, default="")
    measure: Mapped[Measure] = enum_column(Measure, "measure")
    counts_people: Mapped[bool] = mapped_column(default=False)
    unit_es: Mapped[str] = mapped_column(sa.String(120), default="")
    unit_en: Mapped[str] = mapped_column(sa.String(120), default="")
    numerator_es: Mapped[str] = mapped_column(sa.String(255), default="")
    numerator_en: Mapped[str] = mapped_column(sa.String(255), default="")
    denominator_es: Mapped[str] = mapped_column(sa.String(255), default="")
    denominator_en: Mapped[str] = mapped_column(sa.String(255), default="")
    baseline_value: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 4))
    baseline_year: Mapped[int | None]
    direction: Mapped[Direction] = enum_column(Direction, "direction", default=Direction.increase)
    cumulative: Mapped[bool] = mapped_column(default=False)
    frequency: Mapped[Frequency] = enum_column(Frequency, "frequency", default=Frequency.annual)
    means_of_verification_es: Mapped[str] = mapped_column(sa.Text, default="")
    means_of_verification_en: Mapped[str] = mapped_column(sa.Text, default="")
    data_source_es: Mapped[str] = mapped_column(sa.Text, default="")
    data_source_en: Mapped[str] = mapped_column(sa.Text, default="")
    tags: Mapped[str] = mapped_column(sa.String(255), default="")
    # The matching global indicator (UN S/2010/498 set, SDG 5.5.x / 16.x) that open data exports carry.
    global_indicator: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    # Data-quality flags (never blocking): a change from the previous approved year beyond this percentage (none: the
    # default ±50 %), and the range its figure is expected in.
    change_threshold: Mapped[Decimal | None] = mapped_column(sa.Numeric(8, 4))
    expected_min: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 4))
    expected_max: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 4))
    # The plan file's note on this indicator (e.g. why it has no targets yet).
    note_es: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    note_en: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    position: Mapped[int] = mapped_column(default=0)

    pillar: Mapped[Pillar | None] = relationship()
    objective: Mapped[Objective | None] = relationship()
    action: Mapped[Action | None] = relationship()
    responsible: Mapped[list[IndicatorInstitution]] = relationship(
        back_populates="indicator", cascade="all, delete-orphan", order_by="IndicatorInstitution.position"
    )
    targets: Mapped[list[IndicatorTarget]] = relationship(
        back_populates="indicator", cascade="all, delete-orphan", order_by="IndicatorTarget.year"
    )

    __table_args__ = (
        sa.UniqueConstraint("plan_id", "code"),
        sa.CheckConstraint(
            "pillar_id IS NOT NULL OR objective_id IS NOT NULL OR action_id IS NOT NULL", "attached"
        ),
        sa.CheckConstraint(
            "counts_people = false OR measure IN ('number', 'percentage')", "people_are_numbers"
        ),
        sa.CheckConstraint(
            "(baseline_value IS NULL) = (baseline_year IS NULL)", "baseline_has_year"
        ),
        sa.CheckConstraint("change_threshold IS NULL OR change_threshold > 0", "change_threshold_positive"),
        sa.CheckConstraint("expected_min IS NULL OR expected_max IS NULL OR expected_min <= expected_max",
                           "expected_range_ordered"),
    )


class IndicatorInstitution(Base):
    """An institution that reports on an indicator, as lead or in support."""

    __tablename__ = "indicator_institution"

    indicator_id: Mapped[int] = mapped_column(sa.ForeignKey("indicator.id", ondelete="CASCADE"), primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institution.id", ondelete="RESTRICT"), primary_key=True
    )
    role: Mapped[ResponsibilityRole] = enum_column(ResponsibilityRole, "responsibility_role")
    verification: Mapped[Verification] = enum_column(Verification, "verification")
    position: Mapped[int] = mapped_column(default=0)

    indicator: Mapped[Indicator] = relationship(back_populates="responsible")
    institution: Mapped[Institution] = relationship()


class IndicatorTarget(Base):
    """The current target of an indicator for one year; changes are kept in IndicatorTargetChange."""

    __tablename__ = "indicator_target"

    id: Mapped[intpk]
    indicator_id: Mapped[int] = mapped_column(sa.ForeignKey("indicator.id", ondelete="CASCADE"))
    year: Mapped[int]
    value: Mapped[Decimal] = mapped_column(sa.Numeric(18, 4))
    verification: Mapped[Verification] = enum_column(Verification, "verification")
    source_document: Mapped[str] = mapped_column(sa.String(255), default="")
    # Set by the monitoring body in the tracker (not read from the source document): when, and who.
    decided_on: Mapped[date | None] = mapped_column(sa.Date)
    decided_by: Mapped[str] = mapped_column(sa.String(255), default="", server_default="")

    indicator: Mapped[Indicator] = relationship(back_populates="targets")

    __table_args__ = (sa.UniqueConstraint("indicator_id", "year"),)


class IndicatorTargetChange(Base):
    """A changed target: the old and new value, who changed it, when and why."""

    __tablename__ = "indicator_target_change"

    id: Mapped[intpk]
    indicator_id: Mapped[int] = mapped_column(sa.ForeignKey("indicator.id", ondelete="CASCADE"))
    year: Mapped[int]
    old_value: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 4))
    new_value: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 4))
    reason: Mapped[LongText]
    changed_by: Mapped[str] = mapped_column(sa.String(255))
    changed_at: Mapped[Timestamp]

    __table_args__ = (sa.CheckConstraint("length(reason) > 0", "reason_required"),)


class PlanChange(Base):
    """One changed field of a plan item (targets have IndicatorTargetChange): old and new value as text, why,
    who, when and through which channel (the browser, a plan file, the indicator matrix)."""

    __tablename__ = "plan_change"

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    item_kind: Mapped[PlanItemKind] = enum_column(PlanItemKind, "plan_item_kind")
    item_code: Mapped[Code]
    field: Mapped[str] = mapped_column(sa.String(64))
    old_value: Mapped[str | None] = mapped_column(sa.Text)
    new_value: Mapped[str | None] = mapped_column(sa.Text)
    reason: Mapped[LongText]
    changed_by: Mapped[str] = mapped_column(sa.String(255))
    channel: Mapped[ChangeChannel] = enum_column(ChangeChannel, "change_channel")
    changed_at: Mapped[Timestamp]

    __table_args__ = (
        sa.CheckConstraint("length(reason) > 0", "reason_required"),
        sa.Index("ix_plan_change_item", "plan_id", "item_kind", "item_code"),
    )


class UnParityTarget(Base):
    """A year's targets of the UN Uniformed Gender Parity Strategy 2018-2028 (women's shares, 0.15 = 15 %).
    Admins keep them; a year nobody entered from the UN's published table has no row."""

    __tablename__ = "un_parity_target"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    contingents: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 4))
    observers_staff: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 4))
    source: Mapped[str] = mapped_column(sa.String(255))
    changed_by: Mapped[str] = mapped_column(sa.String(255), default="")
    changed_at: Mapped[Timestamp]

    __table_args__ = (
        sa.CheckConstraint("contingents IS NULL OR (contingents >= 0 AND contingents <= 1)", "contingents_share"),
        sa.CheckConstraint("observers_staff IS NULL OR (observers_staff >= 0 AND observers_staff <= 1)", "observers_share"),
        sa.CheckConstraint("year BETWEEN 2018 AND 2028", "strategy_years"),
    )


class PlanVersion(Base):
    """An earlier version of a plan, kept when a revision (a higher `version` in a plan file) replaced it: the plan
    file as it stood then, the items already retired then, and when it stopped being in force. The version in force
    is the plan row itself; an entry belongs to the version in force when it was created."""

    __tablename__ = "plan_version"

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"))
    version: Mapped[int]
    title_es: Mapped[ShortText]
    title_en: Mapped[ShortText]
    adoption_year: Mapped[int | None]
    source_document: Mapped[str] = mapped_column(sa.String(255), default="")
    snapshot: Mapped[LongText]  # the plan file (YAML) of this version, as tracker plan export writes it
    retired_items: Mapped[str] = mapped_column(sa.Text, default="")  # "indicator:IND-1 action:A-2 ..." retired then
    superseded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    superseded_by: Mapped[str] = mapped_column(sa.String(255))
    reason: Mapped[LongText]

    __table_args__ = (
        sa.UniqueConstraint("plan_id", "version"),
        sa.CheckConstraint("version >= 1", "version_positive"),
    )

    def retired_codes(self) -> set[str]:
        return set(self.retired_items.split())
