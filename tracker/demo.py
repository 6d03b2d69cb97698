"""Demonstration data: a few labelled years for Peru's plan (make run) and synthetic plans for benchmarks.

Everything written here is flagged `is_demo` (entries) or coded `DEMO-...` / country `ZZ` (synthetic plans),
and shown as demonstration data on every page that counts it. The demo accounts are the e-mails of
DEMO_ACCOUNTS. `purge_demo_data` removes all of it, and production refuses to serve while any is left.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from config import ConfigError
from tracker import audit
from tracker.auth.models import Role, User
from tracker.db import Base, db
from tracker.plan import models as pm
from tracker.progress.models import (
    ActionStatus,
    CycleState,
    Entry,
    EntryKind,
    EntryState,
    EntryVersion,
    Evidence,
    OutboxMessage,
    ReportingCycle,
)

DEMO_NOTE = "DATOS DE DEMOSTRACIÓN — no oficiales / DEMONSTRATION DATA — not official"
SYNTHETIC_SOURCE = "Synthetic demonstration data (tracker demo generate)"
SYNTHETIC_COUNTRY = "ZZ"

DEMO_PASSWORD = "Demo-NAP-Tracker-2026"
DEMO_ACCOUNTS = [
    ("admin@demo.example.org", "Administración (demo)", Role.admin, None),
    ("comite@demo.example.org", "Comité de Igualdad de Género (demo)", Role.committee, "PE:CIG-MINDEF"),
    ("visor@demo.example.org", "Auditoría (demo)", Role.viewer, None),
    ("marina@demo.example.org", "Marina de Guerra (demo)", Role.reporter, "PE:MGP"),
    ("jefatura.marina@demo.example.org", "Jefatura de la Marina, punto focal (demo)", Role.reporter, "PE:MGP"),
    ("ejercito@demo.example.org", "Ejército (demo)", Role.reporter, "PE:EP"),
    ("fap@demo.example.org", "Fuerza Aérea (demo)", Role.reporter, "PE:FAP"),
    ("ccffaa@demo.example.org", "Comando Conjunto (demo)", Role.reporter, "PE:CCFFAA"),
    ("mindef@demo.example.org", "Ministerio de Defensa (demo)", Role.reporter, "PE:MINDEF"),
]
DEMO_EMAILS = tuple(email for email, *_ in DEMO_ACCOUNTS)
DEMO_PLANS = {Role.committee: ("PE-2021",)}  # the demo committee sits on Peru's monitoring body
# The Navy's focal point: signs off the Navy's entries once the committee turns the sign-off on for it.
DEMO_FOCAL_POINTS = frozenset({"jefatura.marina@demo.example.org"})


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
    country = session.scalars(sa.select(pm.Country).filter_by(iso_code=SYNTHETIC_COUNTRY)).one_or_none()
    if country is None:
        country = pm.Country(iso_code=SYNTHETIC_COUNTRY, name_es="País de demostración", name_en="Demonstration country", data_source=SYNTHETIC_SOURCE)
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


# -- finding and removing demonstration data ---------------------------------------------------------

# Singular and plural of the kinds that demo_leftovers and purge_demo_data count (table names for the latter).
KIND_WORDS = {
    "demo accounts": ("demo account", "demo accounts"),
    "demo entries": ("demo entry", "demo entries"),
    "synthetic plans": ("synthetic plan", "synthetic plans"),
    "user_account": ("demo account", "demo accounts"),
    "outbox_message": ("e-mail to a demo account", "e-mails to demo accounts"),
    "entry": ("entry", "entries"),
    "entry_version": ("entry version", "entry versions"),
    "evidence": ("evidence record", "evidence records"),
    "notification": ("notification", "notifications"),
    "budget_item": ("budget item", "budget items"),
    "reporting_cycle": ("reporting cycle", "reporting cycles"),
    "plan": ("synthetic plan", "synthetic plans"),
    "institution": ("synthetic institution", "synthetic institutions"),
    "country": ("synthetic country", "synthetic countries"),
    "action_institution": ("action responsibility", "action responsibilities"),
    "indicator_institution": ("indicator responsibility", "indicator responsibilities"),
    "budget_item_action": ("budget item action", "budget item actions"),
    "external_support": ("external support item", "external support items"),
    "objective": ("objective", "objectives"),
}


def describe(counts: dict[str, int]) -> str:
    """'2 demo accounts, 1 demo entry': counts in words, in the dict's order."""
    return ", ".join(f"{n} {_kind_word(kind, n)}" for kind, n in counts.items())


def _kind_word(kind: str, n: int) -> str:
    name = kind.replace("_", " ")
    singular, plural = KIND_WORDS.get(kind, (name, name + "s"))
    return singular if n == 1 else plural


def _synthetic_plan_ids() -> sa.Select:
    return (sa.select(pm.Plan.id).join(pm.Country, pm.Plan.country_id == pm.Country.id)
            .where(pm.Plan.code.like("DEMO-%"), pm.Country.iso_code == SYNTHETIC_COUNTRY))


def demo_leftovers(session: Session) -> dict[str, int]:
    """Count the demonstration data in the database: demo accounts, demo entries, synthetic plans.

    Zero counts are left out, so an empty dict means "no demo data". A database whose tables do not exist
    yet (not migrated) holds none: the tables are looked up first, as a failed query would abort the
    transaction on PostgreSQL.
    """
    tables = set(sa.inspect(session.connection()).get_table_names())
    queries = {
        "demo accounts": ({"user_account"}, sa.select(sa.func.count()).select_from(User).where(User.email.in_(DEMO_EMAILS))),
        "demo entries": ({"entry"}, sa.select(sa.func.count()).select_from(Entry).where(Entry.is_demo)),
        "synthetic plans": ({"plan", "country"}, sa.select(sa.func.count()).select_from(_synthetic_plan_ids().subquery())),
    }
    counts = {kind: session.scalar(query) for kind, (needs, query) in queries.items() if needs <= tables}
    return {kind: n for kind, n in counts.items() if n}


def refuse_demo_data_in_production(app: Flask) -> None:
    """Raise ConfigError (one line) when the app is configured for production and demo data is present."""
    if app.config.get("ENV_NAME") != "production":
        return
    with app.app_context():
        leftovers = demo_leftovers(db.session)
    if leftovers:
        raise ConfigError(f"demo data present ({describe(leftovers)}): remove it with "
                          "`tracker demo purge --yes` before serving production")


@dataclass
class PurgeResult:
    """What purge_demo_data removed: rows per table, and the files to delete once that is committed."""

    counts: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # keys in the store (tracker.storage)

    @property
    def empty(self) -> bool:
        return not self.counts


def purge_demo_data(session: Session) -> PurgeResult:
    """Remove every demonstration row, in any environment (production included); flushes, does not commit.

    Removed: entries flagged `is_demo` and every entry of a synthetic plan, with their versions, evidence,
    notifications and budget items; the reporting cycles the demo seed made (no `cycle.opened` audit event,
    which every cycle opened in the app has) that hold no real entry any more; the demo accounts, their
    notifications and the e-mails queued for them; the synthetic plans (country ZZ, codes DEMO-...) with
    everything under them, and the ZZ institutions and country once nothing real uses them.
    Kept: real entries, accounts and cycles. Rows of real data that name a demo account (audit events,
    versions, reviews) keep their copied e-mail or name and lose only the link. The audit log gains a
    `demo.purged` event. The evidence and final-report files are listed in the result, not deleted: the
    caller deletes them after the commit, so a rolled-back purge loses no file.
    """
    from tracker.models import load_all

    load_all()  # the walk over foreign keys needs every table in the metadata
    result = PurgeResult()
    entries = sa.or_(Entry.is_demo, Entry.cycle_id.in_(sa.select(ReportingCycle.id).where(ReportingCycle.plan_id.in_(_synthetic_plan_ids()))))
    result.files += _evidence_files(session, entries) + _final_report_files(session)
    _delete_tree(session, Entry.__table__, entries, result.counts)
    _delete_tree(session, ReportingCycle.__table__, _seeded_empty_cycles(), result.counts)
    _delete_tree(session, User.__table__, User.email.in_(DEMO_EMAILS), result.counts)
    _delete_tree(session, OutboxMessage.__table__, OutboxMessage.to_email.in_(DEMO_EMAILS), result.counts)
    _delete_tree(session, pm.Plan.__table__, pm.Plan.id.in_(_synthetic_plan_ids()), result.counts)
    _purge_synthetic_country(session, result.counts)
    result.counts = _in_reading_order(result.counts)
    if not result.empty:
        audit.record(session, "demo.purged", removed=result.counts)
    session.flush()
    return result


def _in_reading_order(counts: dict[str, int]) -> dict[str, int]:
    """The kinds of KIND_WORDS in its order, then any other table by name (deletion order is children first)."""
    order = list(KIND_WORDS)
    return dict(sorted(counts.items(), key=lambda item: (order.index(item[0]) if item[0] in order else len(order), item[0])))


def _evidence_files(session: Session, entries: sa.ColumnElement[bool]) -> list[str]:
    from tracker.progress.uploads import evidence_key

    # Soft-removed evidence too: its file is still stored.
    return [evidence_key(e) for e in session.scalars(sa.select(Evidence).join(Entry, Evidence.entry_id == Entry.id).where(entries))]


def _final_report_files(session: Session) -> list[str]:
    from tracker.reports.models import FinalReport
    from tracker.reports.services import final_key

    return [final_key(r.stored_name) for r in session.scalars(sa.select(FinalReport).where(FinalReport.plan_id.in_(_synthetic_plan_ids())))]


def _seeded_empty_cycles() -> sa.ColumnElement[bool]:
    opened = sa.select(audit.AuditEvent.target_id).where(audit.AuditEvent.action == "cycle.opened",
                                                         audit.AuditEvent.target_type == ReportingCycle.__name__)
    return sa.and_(
        ~sa.exists().where(Entry.cycle_id == ReportingCycle.id),
        sa.cast(ReportingCycle.id, sa.String).not_in(opened),
        ReportingCycle.plan_id.not_in(_synthetic_plan_ids()),  # those go with their plan
    )


def _purge_synthetic_country(session: Session, counts: dict[str, int]) -> None:
    zz = sa.select(pm.Country.id).where(pm.Country.iso_code == SYNTHETIC_COUNTRY)
    institutions = pm.Institution.__table__
    _delete_tree(session, institutions, sa.and_(institutions.c.country_id.in_(zz), _unreferenced(institutions)), counts)
    countries = pm.Country.__table__
    _delete_tree(session, countries, sa.and_(countries.c.iso_code == SYNTHETIC_COUNTRY, _unreferenced(countries)), counts)


def _referencing(table: sa.Table) -> list[sa.ForeignKey]:
    """The foreign keys, in any table of the metadata, that point at `table`."""
    return [fk for other in Base.metadata.sorted_tables for fk in other.foreign_keys if fk.column.table is table]


def _unreferenced(table: sa.Table) -> sa.ColumnElement[bool]:
    """Rows of `table` that nothing holds on to (only ON DELETE SET NULL keys, or none, point at them)."""
    return sa.and_(sa.true(), *(~sa.exists().where(fk.parent == fk.column) for fk in _referencing(table) if fk.ondelete != "SET NULL"))


def _delete_tree(session: Session, table: sa.Table, where: sa.ColumnElement[bool], counts: dict[str, int]) -> None:
    """Delete the rows of `table` matching `where` and every row that depends on them, children first.

    A row depends on another through any foreign key but those made ON DELETE SET NULL: those references
    are unlinked instead, once the dependents are gone (so a row about to go is never left half-linked
    against its CHECK constraints). Doing here what the database would do keeps the counts exact, works
    whatever the constraint on both databases, and covers tables added later.
    """
    doomed = _dependents(table, where)
    for child in reversed(Base.metadata.sorted_tables):
        if child in doomed:
            _unlink(session, child, doomed[child])
            removed = session.execute(sa.delete(child).where(doomed[child])).rowcount
            if removed:
                counts[child.name] = counts.get(child.name, 0) + removed


def _dependents(table: sa.Table, where: sa.ColumnElement[bool]) -> dict[sa.Table, sa.ColumnElement[bool]]:
    """Which rows of each table go with the rows of `table` matching `where` (parents before children)."""
    doomed = {table: where}
    for child in Base.metadata.sorted_tables:
        links = [fk.parent.in_(sa.select(fk.column).where(doomed[fk.column.table]))
                 for fk in child.foreign_keys
                 if fk.column.table in doomed and fk.column.table is not child and fk.ondelete != "SET NULL"]
        if links:
            doomed[child] = sa.or_(doomed[child], *links) if child in doomed else sa.or_(*links)
    return doomed


def _unlink(session: Session, table: sa.Table, where: sa.ColumnElement[bool]) -> None:
    """Clear the ON DELETE SET NULL references to the rows of `table` matching `where`."""
    for fk in _referencing(table):
        if fk.ondelete == "SET NULL":
            column = fk.parent
            session.execute(sa.update(column.table).where(column.in_(sa.select(fk.column).where(where))).values({column.name: None}))
