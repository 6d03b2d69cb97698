"""Budget classification profiles: the one place that says what a plan's budget item is made of.

A plan's profile is `plan.profile.budget_profile` (a plan without a profile row is generic):
- `pe_mef`: Peru's public budget (MEF): pliego, unidad ejecutora, meta presupuestal, PIA, PIM,
  certificación, compromiso anual, devengado, girado, and the spending-portal CSV import;
- `generic`: a budget line, its funding source, the amount allocated and the amount executed.

Both store their figures in BudgetItem's columns: the generic budget line is `product_activity`,
allocated is `pim` and executed is `devengado`, so the execution rate (executed / allocated) and the
database's checks hold for every profile. The form, the item, entry, compliance and history pages,
the annual report and its exporters all read the declarations below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from babel.numbers import get_currency_name, get_currency_symbol
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from tracker.budget.models import BudgetStage
from tracker.i18n import plan_money_format
from tracker.plan.models import BudgetProfile

# Every profile has these besides its own figures.
COMMON_FIELDS = ("stage", "figures_as_of", "actions", "external_support")


@dataclass(frozen=True)
class Figure:
    """One field of a budget item: the BudgetItem column it is stored in and how the profile names it."""

    name: str
    label: Any  # lazy string, the field's full name
    short: Any = None  # column heading in tables (default: the label)
    hint: Any = None
    amount: bool = False
    max_length: int = 255
    key: str = ""  # its key in report files (default: the column name)

    @property
    def heading(self) -> Any:
        return self.short or self.label

    @property
    def report_key(self) -> str:
        return self.key or self.name


@dataclass(frozen=True)
class Profile:
    """What a profile's budget item shows and asks, in which words."""

    key: BudgetProfile
    line_legend: Any
    line: tuple[Figure, ...]
    amounts: tuple[Figure, ...]
    stages: dict[BudgetStage, Any]
    # The amounts of the compliance table, the history page and the annual report, in order.
    columns: tuple[str, ...]
    # The amount a submission must give for a stage, and the message when it is missing.
    required: dict[BudgetStage, tuple[str, Any]]
    over_allocation: Any  # devengado (executed) above pim (allocated)
    complying_text: Any  # "%(n)d of %(total)d institutions..." under the compliance share
    evidence_label: Any
    spending_portal: bool = False  # the MEF "Consulta Amigable" CSV import

    @property
    def figures(self) -> tuple[Figure, ...]:
        return (*self.line, *self.amounts)

    @property
    def field_names(self) -> tuple[str, ...]:
        """The BudgetItem columns this profile uses (the others stay empty)."""
        return tuple(f.name for f in self.figures)

    @property
    def amount_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.amounts)

    @property
    def line_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.line)

    def figure(self, name: str) -> Figure | None:
        return next((f for f in self.figures if f.name == name), None)

    def stage_label(self, stage: BudgetStage | str) -> str:
        """The profile's words for a stage ("included in PIA" for Peru, "included in the budget" elsewhere)."""
        return str(self.stages[BudgetStage(stage)])

    def stage_choices(self) -> list[tuple[str, Any]]:
        return [(stage.value, text) for stage, text in self.stages.items()]


_NOT_INCLUDED = _l("Not included")
_NOT_APPLICABLE = _l("Not applicable")

PE_MEF = Profile(
    key=BudgetProfile.pe_mef,
    line_legend=_l("Budget line"),
    line=(
        Figure("pliego", _l("Pliego"), hint=_l("e.g. 026 (Ministry of Defense)"), max_length=20),
        Figure("unidad_ejecutora", _l("Executing unit (unidad ejecutora)"), max_length=20),
        Figure("meta_presupuestal", _l("Budget goal (meta presupuestal)"), max_length=20),
        Figure("product_activity", _l("Product or activity")),
        Figure("expense_category", _l("Expense category"), max_length=120),
        Figure("funding_source", _l("Funding source"), max_length=120),
    ),
    amounts=(
        Figure("pia", _l("PIA (opening budget)"), short=_l("PIA"), amount=True),
        Figure("pim", _l("PIM (modified budget)"), short=_l("PIM"), amount=True),
        Figure("certificado", _l("Certified"), amount=True),
        Figure("compromiso_anual", _l("Annual commitment"), amount=True),
        Figure("devengado", _l("Accrued (devengado)"), short=_l("Accrued"), amount=True),
        Figure("girado", _l("Paid (girado)"), amount=True),
    ),
    stages={
        BudgetStage.included_pia: _l("Included in opening budget (PIA)"),
        BudgetStage.added_pim: _l("Added during the year (PIM)"),
        BudgetStage.not_included: _NOT_INCLUDED,
        BudgetStage.not_applicable: _NOT_APPLICABLE,
    },
    columns=("pia", "pim", "devengado"),
    required={
        BudgetStage.included_pia: ("pia", _l("Enter the opening budget (PIA) of the item.")),
        BudgetStage.added_pim: ("pim", _l("Enter the modified budget (PIM) of the item.")),
    },
    over_allocation=_l("Accrued spending (devengado) cannot be above the modified budget (PIM)."),
    complying_text=_l("%(n)d of %(total)d institutions with an approved item in their PIA or PIM"),
    evidence_label=_l("Evidence (budget resolution or a screenshot of the spending portal)"),
    spending_portal=True,
)

GENERIC = Profile(
    key=BudgetProfile.generic,
    line_legend=_l("Budget line and funding source"),
    line=(
        Figure("product_activity", _l("Budget line"), key="budget_line",
               hint=_l("The line or programme of the institution's budget that finances its NAP activities.")),
        Figure("funding_source", _l("Funding source"), max_length=120),
    ),
    amounts=(
        Figure("pim", _l("Allocated"), amount=True, key="allocated"),
        Figure("devengado", _l("Executed"), amount=True, key="executed"),
    ),
    stages={
        BudgetStage.included_pia: _l("Included in the budget"),
        BudgetStage.added_pim: _l("Added during the year"),
        BudgetStage.not_included: _NOT_INCLUDED,
        BudgetStage.not_applicable: _NOT_APPLICABLE,
    },
    columns=("pim", "devengado"),
    required={
        BudgetStage.included_pia: ("pim", _l("Enter the amount allocated to the item.")),
        BudgetStage.added_pim: ("pim", _l("Enter the amount allocated to the item.")),
    },
    over_allocation=_l("The amount executed cannot be above the amount allocated."),
    complying_text=_l("%(n)d of %(total)d institutions with an approved item in their budget"),
    evidence_label=_l("Evidence (budget resolution or an extract of the budget)"),
)

PROFILES = {p.key: p for p in (PE_MEF, GENERIC)}


def profile_of(plan: Any) -> Profile:
    """The plan's budget profile; generic for a plan without a profile row (or no plan)."""
    key = getattr(getattr(plan, "profile", None), "budget_profile", None)
    return PROFILES.get(key, GENERIC) if key else GENERIC


def currency_symbol(plan: Any) -> str | None:
    """The plan's currency as its country writes it (S/ for Peru, $ for Chile); None without a currency."""
    currency, locale = plan_money_format(plan)
    return get_currency_symbol(currency, locale=locale) if currency else None


def currency_name(plan: Any) -> str | None:
    """The plan's currency in the reader's language, plural ("soles peruanos", "Chilean pesos")."""
    currency, _locale = plan_money_format(plan)
    return get_currency_name(currency, count=2, locale=str(get_locale() or "en")) if currency else None


def label(figure: Figure, plan: Any, short: bool = False) -> str:
    """A figure's label; amounts carry the plan's currency symbol ("Allocated, $", "PIM, S/")."""
    text = str(figure.heading if short else figure.label)
    symbol = currency_symbol(plan) if figure.amount else None
    return f"{text}, {symbol}" if symbol else text
