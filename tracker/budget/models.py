"""Budget items (the details of a budget entry) and external support."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db import Base, enum_column, intpk
from tracker.plan.models import Action
from tracker.progress.models import Entry


class BudgetStage(enum.StrEnum):
    """Where the NAP item stands in the institution's budget (DOMAIN: budget clause vocabulary)."""

    included_pia = "included_pia"  # in the opening budget
    added_pim = "added_pim"  # added during the year (modified budget)
    not_included = "not_included"
    not_applicable = "not_applicable"


AMOUNTS = ("pia", "pim", "certificado", "compromiso_anual", "devengado", "girado")
LINE_FIELDS = ("pliego", "unidad_ejecutora", "meta_presupuestal", "product_activity", "expense_category", "funding_source")
BUDGET_FIELDS = ("stage", *LINE_FIELDS, *AMOUNTS, "figures_as_of", "actions", "external_support")


class BudgetItem(Base):
    """One institution's budget item for its NAP activities in one fiscal year, in the plan's currency.

    The columns are those of Peru's classification; other profiles store their figures in some of them
    (tracker.budget.profiles: a budget line in product_activity, allocated in pim, executed in devengado)."""

    __tablename__ = "budget_item"

    id: Mapped[intpk]
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), unique=True)
    stage: Mapped[BudgetStage | None] = enum_column(BudgetStage, "budget_stage")
    pliego: Mapped[str] = mapped_column(sa.String(20), default="")
    unidad_ejecutora: Mapped[str] = mapped_column(sa.String(20), default="")
    meta_presupuestal: Mapped[str] = mapped_column(sa.String(20), default="")
    product_activity: Mapped[str] = mapped_column(sa.String(255), default="")
    expense_category: Mapped[str] = mapped_column(sa.String(120), default="")
    funding_source: Mapped[str] = mapped_column(sa.String(120), default="")
    pia: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    pim: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    certificado: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    compromiso_anual: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    devengado: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    girado: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    figures_as_of: Mapped[date | None]

    entry: Mapped[Entry] = relationship(backref=sa.orm.backref("budget", uselist=False, lazy="joined"))
    financed_actions: Mapped[list[BudgetItemAction]] = relationship(cascade="all, delete-orphan", order_by="BudgetItemAction.action_id")
    external_support: Mapped[list[ExternalSupport]] = relationship(cascade="all, delete-orphan", order_by="ExternalSupport.id")

    __table_args__ = (
        *(sa.CheckConstraint(f"{a} IS NULL OR {a} >= 0", f"{a}_not_negative") for a in AMOUNTS),
        sa.CheckConstraint("devengado IS NULL OR pim IS NULL OR devengado <= pim", "devengado_within_pim"),
        sa.CheckConstraint("girado IS NULL OR devengado IS NULL OR girado <= devengado", "girado_within_devengado"),
    )

    @property
    def execution_rate(self) -> Decimal | None:
        """Avance %: devengado / PIM, exact (None without a PIM)."""
        from tracker.status import execution_rate

        return execution_rate(self.pim, self.devengado)

    @property
    def balance(self) -> Decimal | None:
        """PIM - devengado."""
        return None if self.pim is None or self.devengado is None else self.pim - self.devengado

    def snapshot(self) -> dict[str, Any]:
        """The item's fields as JSON-ready values: those of the plan's budget profile only, so that a
        generic item's history does not list Peru's pliego or PIA."""
        from tracker.budget.profiles import profile_of

        used = profile_of(self.entry.cycle.plan).field_names
        out: dict[str, Any] = {"stage": self.stage.value if self.stage else None}
        out |= {name: getattr(self, name) for name in LINE_FIELDS if name in used}
        out |= {name: None if getattr(self, name) is None else str(getattr(self, name)) for name in AMOUNTS if name in used}
        out["figures_as_of"] = self.figures_as_of.isoformat() if self.figures_as_of else None
        out["actions"] = sorted(link.action.code for link in self.financed_actions)
        out["external_support"] = [f"{s.donor}: {s.amount} {s.currency}" for s in self.external_support]
        return out


class BudgetItemAction(Base):
    """An action of the plan that the budget item finances."""

    __tablename__ = "budget_item_action"

    budget_item_id: Mapped[int] = mapped_column(sa.ForeignKey("budget_item.id", ondelete="CASCADE"), primary_key=True)
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("action.id", ondelete="RESTRICT"), primary_key=True)

    action: Mapped[Action] = relationship()


class ExternalSupport(Base):
    """Support from outside the national budget (UN Women, Canada, DCAF...), recorded separately with its donor."""

    __tablename__ = "external_support"

    id: Mapped[intpk]
    budget_item_id: Mapped[int] = mapped_column(sa.ForeignKey("budget_item.id", ondelete="CASCADE"))
    donor: Mapped[str] = mapped_column(sa.String(255))
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    currency: Mapped[str] = mapped_column(sa.String(3))
    purpose: Mapped[str] = mapped_column(sa.Text, default="")

    __table_args__ = (
        sa.CheckConstraint("amount >= 0", "amount_not_negative"),
        sa.CheckConstraint("length(currency) = 3", "currency_code"),
    )
