"""The plan file format (YAML): its schema, validated with pydantic.

One file holds one country's plan: the country, its institutions and the plan with its eight
tabs, pillars, objectives, actions and indicators. Every plan item carries its provenance.
The same format is read by `tracker seed`, `tracker plan import` and written by `tracker plan export`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from zoneinfo import available_timezones

from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from tracker.plan.models import (
    BudgetProfile,
    Direction,
    Frequency,
    InstitutionKind,
    Language,
    Measure,
    ObjectiveLevel,
    PillarKind,
    PlanTab,
    Verification,
)

FORMAT = "nap-tracker/plan@1"
CodeStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")]
FIRST_YEAR, LAST_YEAR = 1900, 2200  # a year outside these is a typing error (plan files, forms and the matrix alike)
Year = Annotated[int, Field(ge=FIRST_YEAR, le=LAST_YEAR)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A text in Spanish and English; at least one of them is required."""

    es: str = ""
    en: str = ""

    @model_validator(mode="after")
    def _one_language(self) -> Text:
        if not (self.es.strip() or self.en.strip()):
            raise ValueError("needs a text in Spanish (es) or English (en)")
        return self


class OptionalText(Strict):
    es: str = ""
    en: str = ""


class Source(Strict):
    """Where an item came from."""

    document: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    section: Annotated[str, StringConstraints(max_length=255)] = ""
    verification: Verification
    original_language: Language | None = None  # default: the plan's original language


class GenderGap(Strict):
    rank: Annotated[int, Field(ge=1)]
    of: Annotated[int, Field(ge=1)]
    year: Year

    @model_validator(mode="after")
    def _rank_within(self) -> GenderGap:
        if self.rank > self.of:
            raise ValueError("rank cannot be above 'of'")
        return self


class MilitaryExpenditure(Strict):
    amount: Annotated[Decimal, Field(ge=0)]
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    year: Year


# Files of the system's time zone database that are not zones (the page formatter refuses them).
NOT_TIME_ZONES = frozenset({"localtime", "Factory", "posixrules"})


def check_timezone(name: str) -> str:
    """An IANA time zone name such as America/Lima."""
    if name not in available_timezones() or name in NOT_TIME_ZONES:
        raise ValueError(f"{name!r} is not a time zone (use an IANA name such as America/Lima)")
    return name


def check_currency(code: str) -> str:
    """An ISO 4217 currency code such as PEN."""
    if code not in list_currencies():
        raise ValueError(f"{code!r} is not an ISO 4217 currency code (such as PEN, CLP or USD)")
    return code


def check_locale(name: str) -> str:
    """A locale Babel knows, such as es_PE or en_GB, written as Babel writes it (es-cl becomes es_CL)."""
    try:
        return str(Locale.parse(name.replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValueError(f"{name!r} is not a known locale (such as es_PE, es_CL or en_GB)") from None


class ProfileIn(Strict):
    """How the country's plan is read: deadlines in its time zone, amounts in its currency, numbers in its locale."""

    timezone: Annotated[str, AfterValidator(check_timezone)] = "UTC"
    currency: Annotated[str, AfterValidator(check_currency)] | None = None
    locale: Annotated[str, AfterValidator(check_locale)] = "en"


class CountryIn(Strict):
    iso_code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    name: Text
    profile: ProfileIn | None = None  # left out: as stored (a new country: UTC, no currency, en)
    cedaw_ratification_year: Year | None = None
    gender_gap_index: GenderGap | None = None
    arms_trade_treaty_ratification_year: Year | None = None
    military_expenditure: MilitaryExpenditure | None = None
    data_source: str = ""


class InstitutionIn(Strict):
    code: CodeStr
    name: Text
    kind: InstitutionKind
    parent: CodeStr | None = None


class SectionIn(Strict):
    text: Text
    source: Source


class ActorIn(Strict):
    institution: CodeStr
    representatives: Annotated[int, Field(ge=0)] | None = None
    role: OptionalText = OptionalText()
    source: Source


class MonitoringIn(Strict):
    institution: CodeStr
    role: OptionalText = OptionalText()
    source: Source


class PillarIn(Strict):
    code: CodeStr
    kind: PillarKind
    name: Text
    overview: OptionalText = OptionalText()
    source: Source


class ObjectiveIn(Strict):
    code: CodeStr
    level: ObjectiveLevel
    parent: CodeStr | None = None
    pillar: CodeStr | None = None
    text: Text
    source: Source


class Responsibility(Strict):
    """Which institutions lead and support an action or report an indicator, and how we know."""

    lead: list[CodeStr] = []
    support: list[CodeStr] = []
    verification: Verification

    @model_validator(mode="after")
    def _no_repeats(self) -> Responsibility:
        codes = self.lead + self.support
        if len(codes) != len(set(codes)):
            raise ValueError("an institution is named twice")
        return self


class ActionIn(Strict):
    code: CodeStr
    pillar: CodeStr
    objective: CodeStr | None = None
    text: Text
    responsibility: Responsibility | None = None
    source: Source


class TargetIn(Strict):
    year: Year
    value: Decimal
    verification: Verification
    source_document: str = ""


class BaselineIn(Strict):
    value: Decimal
    year: Year


class IndicatorIn(Strict):
    code: CodeStr
    pillar: CodeStr | None = None
    objective: CodeStr | None = None
    action: CodeStr | None = None
    name: Text
    measure: Measure
    counts_people: bool = False
    unit: OptionalText = OptionalText()
    numerator: OptionalText = OptionalText()
    denominator: OptionalText = OptionalText()
    baseline: BaselineIn | None = None
    direction: Direction = Direction.increase
    cumulative: bool = False
    frequency: Frequency = Frequency.annual
    means_of_verification: OptionalText = OptionalText()
    data_source: OptionalText = OptionalText()
    responsibility: Responsibility | None = None
    tags: list[CodeStr] = []
    # The matching global indicator, e.g. "SDG 5.5.2" or "S/2010/498 15" (UN Secretary-General's 1325 indicators).
    global_indicator: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = ""
    targets: list[TargetIn] = []
    note: OptionalText = OptionalText()  # shown with the indicator, e.g. why it has no targets yet
    source: Source

    @model_validator(mode="after")
    def _consistent(self) -> IndicatorIn:
        if not (self.pillar or self.objective or self.action):
            raise ValueError("an indicator must name its pillar, objective or action")
        if self.counts_people and self.measure not in (Measure.number, Measure.percentage):
            raise ValueError("only number or percentage indicators can count people")
        years = [t.year for t in self.targets]
        if len(years) != len(set(years)):
            raise ValueError("targets repeat a year")
        return self


class BodyIn(Strict):
    """The body that reviews the plan's entries (Peru's: the Gender Equality Committee of the Ministry of Defense)."""

    code: CodeStr
    name: Text


class BudgetIn(Strict):
    """The budget clause: its classification profile and the institutions it binds (none: all with assigned items)."""

    profile: BudgetProfile = BudgetProfile.generic
    binds: list[CodeStr] = []


class PlanIn(Strict):
    code: CodeStr
    version: Annotated[int, Field(ge=1)] = 1
    title: Text
    original_language: Language
    summary: OptionalText = OptionalText()
    adoption_year: Year | None = None
    start_year: Year | None = None
    end_year: Year | None = None
    lead_institution: CodeStr | None = None
    monitoring_body: BodyIn | None = None
    budget: BudgetIn | None = None  # left out: as stored (a new plan: generic, binding every assigned institution)
    targets_note: OptionalText = OptionalText()  # shown where an indicator has no targets
    source: Source
    sections: dict[PlanTab, SectionIn] = {}
    actors: list[ActorIn] = []
    monitoring: list[MonitoringIn] = []
    pillars: list[PillarIn] = []
    objectives: list[ObjectiveIn] = []
    actions: list[ActionIn] = []
    indicators: list[IndicatorIn] = []

    @model_validator(mode="after")
    def _timeframe(self) -> PlanIn:
        if self.start_year and self.end_year and self.start_year > self.end_year:
            raise ValueError("start_year is after end_year")
        return self


class PlanFile(Strict):
    """The whole file."""

    format: Annotated[str, StringConstraints(pattern=r"^nap-tracker/plan@1$")]
    country: CountryIn
    institutions: list[InstitutionIn] = []
    plan: PlanIn
