"""Demonstration data: a few labelled years for Peru's plan (make run) and synthetic plans for benchmarks.

Everything written here is flagged `is_demo` (entries) or coded `DEMO-...` / country `ZZ` (synthetic plans),
and shown as demonstration data on every page that counts it.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.plan import models as pm
from tracker.progress.models import (
    ActionStatus,
    CycleState,
    Entry,
    EntryKind,
    EntryState,
    EntryVersion,
    ReportingCycle,
)

DEMO_NOTE = "DATOS DE DEMOSTRACIÓN — no oficiales / DEMONSTRATION DATA — not official"
SYNTHETIC_SOURCE = "Synthetic demonstration data (tracker demo generate)"


def _at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=timezone.utc)


def _cycle(session: Session, plan: pm.Plan, year: int, state: CycleState) -> ReportingCycle:
    cycle = ReportingCycle(plan_id=plan.id, year=year, deadline=date(year + 1, 3, 31), state=state)
    session.add(cycle)
    session.flush()
    return cycle


def _demo_entry(session: Session, cycle: ReportingCycle, institution_id: int, state: EntryState, **values) -> Entry:
    submitted = _at(cycle.year + 1, 3, 15) if state != EntryState.draft else None
    entry = Entry(cycle_id=cycle.id, institution_id=institution_id, state=state, version=1, is_demo=True,
                  submitted_at=submitted, reviewed_at=submitted + timedelta(days=5) if state == EntryState.approved else None,
                  **values)
    session.add(entry)
    session.flush()
    session.add(EntryVersion(entry_id=entry.id, number=1, event="imported", state=state,
                             data=json.dumps(entry.snapshot(), default=str), note=DEMO_NOTE, user_name="demo"))
    return entry


# -- Peru: a few clearly labelled years -------------------------------------------------------------

PERU_DEMO = {
    # year: (cycle state, {indicator code: (women, men)}, {action code: status})
    2022: (CycleState.closed, {"IND-PAR-1": (12, 48), "IND-PAR-2": (30, 206)}, {"PAR-1": ActionStatus.in_progress, "PAR-2": ActionStatus.in_progress}),
    2023: (CycleState.closed, {"IND-PAR-1": (18, 52), "IND-PAR-2": (34, 210)}, {"PAR-1": ActionStatus.ongoing, "PAR-2": ActionStatus.in_progress, "REC-4": ActionStatus.delayed}),
    2024: (CycleState.closed, {"IND-PAR-1": (25, 55), "IND-PAR-2": (37, 199)}, {"PAR-1": ActionStatus.ongoing, "PAR-2": ActionStatus.completed, "REC-4": ActionStatus.in_progress}),
}


def seed_peru_demo(session: Session) -> int:
    """Add demo cycles 2022-2024 (closed, approved demo entries by the Navy) and an open current cycle; idempotent."""
    plan = session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one_or_none()
    if plan is None or session.scalar(sa.select(sa.func.count()).select_from(ReportingCycle).filter_by(plan_id=plan.id)):
        return 0
    navy = session.scalars(sa.select(pm.Institution).filter_by(code="MGP", country_id=plan.country_id)).one()
    indicators = {i.code: i for i in session.scalars(sa.select(pm.Indicator).filter_by(plan_id=plan.id))}
    actions = {a.code: a for a in session.scalars(sa.select(pm.Action).filter_by(plan_id=plan.id))}
    created = 0
    for year, (state, people, statuses) in PERU_DEMO.items():
        cycle = _cycle(session, plan, year, state)
        for code, (women, men) in people.items():
            _demo_entry(session, cycle, navy.id, EntryState.approved, kind=EntryKind.indicator, indicator_id=indicators[code].id,
                        women=women, men=men, value=Decimal(women + men), narrative=DEMO_NOTE)
            created += 1
        for code, status in statuses.items():
            _demo_entry(session, cycle, navy.id, EntryState.approved, kind=EntryKind.action, action_id=actions[code].id,
                        action_status=status, done=DEMO_NOTE)
            created += 1
    _cycle(session, plan, date.today().year, CycleState.open)
    return created


# -- synthetic plans for benchmarks and load tests ---------------------------------------------------


@dataclass(frozen=True)
class Size:
    plans: int = 1
    institutions: int = 8
    actions_per_pillar: int = 5
    indicators_per_action: int = 2
    years: int = 3


def generate(session: Session, size: Size, seed: int = 1325) -> dict[str, int]:
    """Fill the database with synthetic plans (country ZZ, codes DEMO-NNN) and entries in every state."""
    rng = random.Random(seed)
    country = _synthetic_country(session)
    institutions = _synthetic_institutions(session, country, size.institutions)
    start = session.scalar(sa.select(sa.func.count()).select_from(pm.Plan).where(pm.Plan.code.like("DEMO-%"))) or 0
    counts = {"plans": 0, "indicators": 0, "entries": 0}
    for n in range(start + 1, start + size.plans + 1):
        plan, indicators, actions = _synthetic_plan(session, country, institutions, n, size, rng)
        counts["plans"] += 1
        counts["indicators"] += len(indicators)
        for year in range(2020, 2020 + size.years):
            cycle = _cycle(session, plan, year, CycleState.closed if year < 2020 + size.years - 1 else CycleState.open)
            counts["entries"] += _synthetic_entries(session, cycle, indicators, actions, rng)
    return counts


def _synthetic_country(session: Session) -> pm.Country:
    country = session.scalars(sa.select(pm.Country).filter_by(iso_code="ZZ")).one_or_none()
    if country is None:
        country = pm.Country(iso_code="ZZ", name_es="País de demostración", name_en="Demonstration country", data_source=SYNTHETIC_SOURCE)
        session.add(country)
        session.flush()
    return country


def _synthetic_institutions(session: Session, country: pm.Country, n: int) -> list[pm.Institution]:
    existing = {i.code: i for i in session.scalars(sa.select(pm.Institution).filter_by(country_id=country.id))}
    for k in range(1, n + 1):
        code = f"INST-{k:02d}"
        if code not in existing:
            existing[code] = pm.Institution(country_id=country.id, code=code, name_es=f"Institución {k}", name_en=f"Institution {k}",
                                            kind=pm.InstitutionKind.ministry)
            session.add(existing[code])
    session.flush()
    return sorted(existing.values(), key=lambda i: i.code)[:n]


def _provenance() -> dict:
    return {"source_document": SYNTHETIC_SOURCE, "source_section": "", "verification": pm.Verification.derived, "original_language": pm.Language.en}


def _synthetic_plan(session, country, institutions, n, size: Size, rng: random.Random):
    plan = pm.Plan(country_id=country.id, code=f"DEMO-{n:03d}", title_es=f"Plan de demostración {n}", title_en=f"Demonstration plan {n}",
                   adoption_year=2020, start_year=2020, end_year=2020 + size.years, **_provenance())
    session.add(plan)
    session.flush()
    indicators, actions = [], []
    for p, kind in enumerate(list(pm.PillarKind)[:4]):
        pillar = pm.Pillar(plan_id=plan.id, code=f"P{p + 1}", kind=kind, name_es=kind.value, name_en=kind.value, position=p, **_provenance())
        session.add(pillar)
        session.flush()
        for a in range(size.actions_per_pillar):
            action = pm.Action(plan_id=plan.id, pillar_id=pillar.id, code=f"A{p + 1}-{a + 1}", text_es=f"Acción {p + 1}.{a + 1}",
                               text_en=f"Action {p + 1}.{a + 1}", position=a, **_provenance())
            session.add(action)
            session.flush()
            lead = rng.choice(institutions)
            session.add(pm.ActionInstitution(action_id=action.id, institution_id=lead.id, role=pm.ResponsibilityRole.lead, verification=pm.Verification.derived))
            actions.append((action, lead))
            for k in range(size.indicators_per_action):
                indicators.append((_synthetic_indicator(session, plan, action, lead, f"I{p + 1}-{a + 1}-{k + 1}", size, rng), lead))
    return plan, indicators, actions


def _synthetic_indicator(session, plan, action, lead, code, size: Size, rng: random.Random) -> pm.Indicator:
    people = rng.random() < 0.5
    indicator = pm.Indicator(plan_id=plan.id, code=code, action_id=action.id, name_es=f"Indicador {code}", name_en=f"Indicator {code}",
                             measure=pm.Measure.number, counts_people=people, cumulative=rng.random() < 0.2,
                             baseline_value=Decimal(rng.randint(0, 20)), baseline_year=2019, **_provenance())
    session.add(indicator)
    session.flush()
    session.add(pm.IndicatorInstitution(indicator_id=indicator.id, institution_id=lead.id, role=pm.ResponsibilityRole.lead, verification=pm.Verification.derived))
    for year in range(2020, 2020 + size.years):
        session.add(pm.IndicatorTarget(indicator_id=indicator.id, year=year, value=Decimal(rng.randint(30, 120)), verification=pm.Verification.derived))
    return indicator


def _synthetic_entries(session, cycle, indicators, actions, rng: random.Random) -> int:
    states = [EntryState.approved] * 6 + [EntryState.submitted, EntryState.draft, EntryState.returned]
    n = 0
    for indicator, lead in indicators:
        if rng.random() < 0.15:
            continue
        state = rng.choice(states)
        women, men = rng.randint(0, 60), rng.randint(0, 80)
        values = {"women": women, "men": men, "value": Decimal(women + men)} if indicator.counts_people else {"value": Decimal(rng.randint(0, 120))}
        _demo_entry(session, cycle, lead.id, state, kind=EntryKind.indicator, indicator_id=indicator.id,
                    review_note="demo" if state == EntryState.returned else "", **values)
        n += 1
    for action, lead in actions:
        state = rng.choice(states)
        _demo_entry(session, cycle, lead.id, state, kind=EntryKind.action, action_id=action.id, action_status=rng.choice(list(ActionStatus)),
                    review_note="demo" if state == EntryState.returned else "")
        n += 1
    return n
