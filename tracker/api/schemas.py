"""The read API's requests and responses as pydantic models: the views validate their query strings with them, and
the OpenAPI description is generated from them (tracker.api.views)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

PER_PAGE_MAX = 500


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- queries ---------------------------------------------------------------------------------------


class PageQuery(Strict):
    page: int = Field(1, ge=1, le=100_000, description="Page number, from 1.")
    per_page: int = Field(100, ge=1, le=PER_PAGE_MAX, description="Items per page.")


class ValuesQuery(PageQuery):
    year: int | None = Field(None, ge=1900, le=2100, description="Only this reporting year.")
    pillar: str | None = Field(None, max_length=40, description="Only the indicators of this pillar (its code).")
    institution: str | None = Field(None, max_length=40, description="Only this institution's reports (its code).")
    indicator: str | None = Field(None, max_length=40, description="Only this indicator (its code).")


class YearQuery(Strict):
    year: int | None = Field(None, ge=1900, le=2100, description="The reporting year; default: the latest cycle's.")
    institution: str | None = Field(None, max_length=40, description="Only this institution (its code).")


# -- responses -------------------------------------------------------------------------------------


class Error(BaseModel):
    error: str = Field(description="A code: unauthorized, not_found, invalid, rate_limited.")
    message: str


class Paging(BaseModel):
    page: int
    per_page: int
    total: int = Field(description="Items in every page.")


class Texts(BaseModel):
    es: str
    en: str


class PlanSummary(BaseModel):
    code: str
    title: Texts
    country: str = Field(description="ISO 3166-1 alpha-2 code.")
    adoption_year: int | None
    start_year: int | None
    end_year: int | None
    url: str = Field(description="This plan in the API.")


class PlanList(BaseModel):
    items: list[PlanSummary]
    paging: Paging


class Objective(BaseModel):
    code: str
    level: str
    pillar: str | None
    parent: str | None
    text: Texts


class Pillar(BaseModel):
    code: str
    kind: str
    name: Texts


class Responsible(BaseModel):
    institution: str
    role: str


class Action(BaseModel):
    code: str
    pillar: str
    objective: str | None
    text: Texts
    institutions: list[Responsible]
    in_force: bool = Field(description="Not retired from the plan.")


class Target(BaseModel):
    year: int
    value: float


class Indicator(BaseModel):
    code: str
    pillar: str | None
    action: str | None
    name: Texts
    measure: str = Field(description="number, percentage, qualitative or yes_no.")
    counts_people: bool = Field(description="Reports split the people counted by sex (women, men).")
    direction: str
    cumulative: bool
    unit: Texts
    baseline: float | None
    baseline_year: int | None
    targets: list[Target]
    institutions: list[str]
    in_force: bool


class Institution(BaseModel):
    code: str
    name: Texts
    kind: str


class PlanDetail(BaseModel):
    code: str
    title: Texts
    country: str
    adoption_year: int | None
    start_year: int | None
    end_year: int | None
    pillars: list[Pillar]
    objectives: list[Objective]
    actions: list[Action]
    indicators: list[Indicator]
    institutions: list[Institution]
    reporting_years: list[int]


class IndicatorValue(BaseModel):
    indicator: str
    year: int
    institution: str
    state: str = Field(description="approved; a reporter's token also sees its institution's other entries.")
    value: float | None
    women: int | None
    men: int | None
    numerator: float | None
    denominator: float | None
    text: str | None = Field(description="A qualitative answer.")
    yes: bool | None = Field(description="A yes/no answer.")
    approved_at: str | None = Field(description="When the committee approved it (ISO 8601).")


class ValueList(BaseModel):
    items: list[IndicatorValue]
    paging: Paging


class Completion(BaseModel):
    actions_total: int
    actions_reported: int
    actions_done: int
    indicators_total: int
    indicators_reported: int
    indicators_with_target: int
    mean_achievement: float | None = Field(description="Mean achievement of the indicators with a target, 0 to 1.")


class PillarProgress(BaseModel):
    pillar: str | None
    completion: Completion


class IndicatorStatus(BaseModel):
    indicator: str
    performance: str = Field(description="The status engine's verdict (tracker.status.Performance).")
    value: float | None
    women: int | None
    men: int | None
    women_share: float | None = Field(description="Women among the people counted, 0 to 1.")
    target: float | None
    achievement: float | None = Field(description="0 to 1, capped; none without a target or data.")


class ActionStatus(BaseModel):
    action: str
    status: str | None


class InstitutionCompleteness(BaseModel):
    institution: str
    assigned: int
    submitted: int
    approved: int
    on_time: int


class BudgetCompliance(BaseModel):
    complying: int
    counted: int = Field(description="Institutions the plan's budget clause applies to.")
    by_institution: dict[str, str]


class Progress(BaseModel):
    plan: str
    year: int
    overall: Completion
    pillars: list[PillarProgress]
    indicators: list[IndicatorStatus]
    actions: list[ActionStatus]
    institutions: list[InstitutionCompleteness]
    budget: BudgetCompliance | None


class FinalReport(BaseModel):
    year: int
    version: int
    language: str
    format: str
    size: int
    sha256: str
    url: str = Field(description="The stored file, in the API (with the same token).")


class ReportList(BaseModel):
    items: list[FinalReport]
