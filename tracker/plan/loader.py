"""Read, validate, import and export plan files (the format is defined in tracker.plan.schema).

The same code serves `tracker seed`, `tracker plan import`, `tracker plan export` and the tests.
Import is idempotent: every item is upserted by its natural key (plan code, item code).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pydantic
import sqlalchemy as sa
import yaml
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from tracker.db import utcnow
from tracker.plan import editing
from tracker.plan import models as m
from tracker.plan import schema as s

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"
PERU_SEED = SEED_DIR / "peru-2021.yaml"
# Who changed the plan when a plan file did without naming an account (shown translated in the history).
IMPORTED_BY = "plan-file"


class PlanFileError(Exception):
    """A plan file cannot be read or is invalid: names the file, the path inside it and what is wrong."""

    def __init__(self, file: str, problems: list[tuple[str, str]]):
        self.file = file
        self.problems = problems
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where, what = self.problems[0]
        more = f" (and {len(self.problems) - 1} more problems)" if len(self.problems) > 1 else ""
        return f"{self.file}: {where or '(file)'}: {what}{more}"


# ----------------------------------------------------------------------------------------------
# Reading and validating


def read_plan_file(path: Path | str) -> s.PlanFile:
    """Parse and validate a plan file; raise PlanFileError with the file, path and problem."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanFileError(str(path), [("", f"cannot be read: {exc.strerror}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        raise PlanFileError(str(path), [(where, f"is not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    return validate_plan_data(raw, str(path))


def validate_plan_data(raw: Any, file: str) -> s.PlanFile:
    """Validate already-parsed data: the schema first, then cross-references between items."""
    if not isinstance(raw, dict):
        raise PlanFileError(file, [("", "must be a mapping with format, country, institutions and plan")])
    try:
        parsed = s.PlanFile.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise PlanFileError(file, [(_loc(e["loc"]), e["msg"]) for e in exc.errors()]) from None
    problems = list(_reference_problems(parsed))
    if problems:
        raise PlanFileError(file, problems)
    return parsed


def _loc(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _duplicates(items: list[Any], attr: str, where: str) -> Iterable[tuple[str, str]]:
    seen: set[str] = set()
    for i, item in enumerate(items):
        value = getattr(item, attr)
        if value in seen:
            yield f"{where}[{i}].{attr}", f"{value!r} is used twice"
        seen.add(value)


def _unknown(code: str | None, known: set[str], where: str, kind: str) -> Iterable[tuple[str, str]]:
    if code is not None and code not in known:
        yield where, f"unknown {kind} {code!r}"


def _reference_problems(f: s.PlanFile) -> Iterable[tuple[str, str]]:
    """Every code used must be defined once in the file."""
    p = f.plan
    yield from _duplicates(f.institutions, "code", "institutions")
    for name in ("pillars", "objectives", "actions", "indicators"):
        yield from _duplicates(getattr(p, name), "code", f"plan.{name}")
    yield from _duplicates(p.actors, "institution", "plan.actors")
    yield from _duplicates(p.monitoring, "institution", "plan.monitoring")
    inst = {i.code for i in f.institutions}
    pillars = {x.code for x in p.pillars}
    objectives = {x.code for x in p.objectives}
    actions = {x.code for x in p.actions}
    for i, x in enumerate(f.institutions):
        yield from _unknown(x.parent, inst, f"institutions[{i}].parent", "institution")
    for i, code in enumerate(p.budget.binds if p.budget else []):
        yield from _unknown(code, inst, f"plan.budget.binds[{i}]", "institution")
    yield from _unknown(p.lead_institution, inst, "plan.lead_institution", "institution")
    for name in ("actors", "monitoring"):
        for i, x in enumerate(getattr(p, name)):
            yield from _unknown(x.institution, inst, f"plan.{name}[{i}].institution", "institution")
    for i, o in enumerate(p.objectives):
        yield from _unknown(o.parent, objectives, f"plan.objectives[{i}].parent", "objective")
        yield from _unknown(o.pillar, pillars, f"plan.objectives[{i}].pillar", "pillar")
        if o.parent == o.code:
            yield f"plan.objectives[{i}].parent", "an objective cannot be its own parent"
    for i, a in enumerate(p.actions):
        yield from _unknown(a.pillar, pillars, f"plan.actions[{i}].pillar", "pillar")
        yield from _unknown(a.objective, objectives, f"plan.actions[{i}].objective", "objective")
        yield from _responsibility_problems(a.responsibility, inst, f"plan.actions[{i}].responsibility")
    for i, x in enumerate(p.indicators):
        where = f"plan.indicators[{i}]"
        yield from _unknown(x.pillar, pillars, f"{where}.pillar", "pillar")
        yield from _unknown(x.objective, objectives, f"{where}.objective", "objective")
        yield from _unknown(x.action, actions, f"{where}.action", "action")
        yield from _responsibility_problems(x.responsibility, inst, f"{where}.responsibility")


def _responsibility_problems(r: s.Responsibility | None, inst: set[str], where: str) -> Iterable[tuple[str, str]]:
    if r is None:
        return
    for role in ("lead", "support"):
        for j, code in enumerate(getattr(r, role)):
            yield from _unknown(code, inst, f"{where}.{role}[{j}]", "institution")


# ----------------------------------------------------------------------------------------------
# Importing


@dataclass
class ImportResult:
    """What an import did: the plan and how many rows it created or changed."""

    plan_code: str
    created: int = 0
    updated: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    outcomes: list[editing.ItemOutcome] = field(default_factory=list)  # the objectives, actions and indicators it touched
    revised_from: int | None = None  # the version a revision replaced (kept as a PlanVersion)

    def note(self, outcome: editing.ItemOutcome) -> None:
        """Count an objective, action or indicator once, whatever of it changed."""
        if outcome.changed:
            self.outcomes.append(outcome)
            self.created += outcome.created
            self.updated += not outcome.created


class _Upserter:
    """Creates or updates rows by natural key and counts what changed."""

    def __init__(self, session: Session, result: ImportResult, editor: editing.Editor):
        self.session = session
        self.result = result
        self.editor = editor  # who the plan's history names, and why

    def item(self, plan: m.Plan, kind: m.PlanItemKind, code: str, values: dict[str, Any]) -> tuple[Any, editing.ItemOutcome]:
        """Create or change an objective, action or indicator through the editing service (its history and rules)."""
        row = editing.find_item(self.session, plan, kind, code)
        outcome = editing.ItemOutcome(kind, code)
        try:
            if row is None:
                row = editing.add_item(self.session, plan, kind, code, values, self.editor)
                outcome.created = True
            else:
                outcome.fields = editing.set_fields(self.session, plan, kind, row, values, self.editor)
        except editing.EditRefused as exc:
            exc.item = exc.item or f"{kind.value} {code}"
            raise
        return row, outcome

    def upsert(self, model: type, keys: dict[str, Any], values: dict[str, Any]) -> Any:
        row = self.session.scalars(sa.select(model).filter_by(**keys)).one_or_none()
        if row is None:
            row = model(**keys, **values)
            self.session.add(row)
            self.session.flush()
            self.result.created += 1
            return row
        changed = False
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
                changed = True
        if changed:
            self.session.flush()
            self.result.updated += 1
        return row


def _texts(prefix: str, text: s.Text | s.OptionalText) -> dict[str, str]:
    return {f"{prefix}_es": text.es, f"{prefix}_en": text.en}


def _provenance(source: s.Source, default_language: m.Language) -> dict[str, Any]:
    return {
        "source_document": source.document,
        "source_section": source.section,
        "verification": source.verification,
        "original_language": source.original_language or default_language,
    }


def import_plan(session: Session, f: s.PlanFile, operator: str | None = None, reason: str | None = None,
                channel: m.ChangeChannel = m.ChangeChannel.plan_file, keep_country: bool = False) -> ImportResult:
    """Upsert a validated plan file into the database; flushes but does not commit. Objectives, actions,
    indicators and targets change through tracker.plan.editing, whose history names `operator` (an e-mail;
    without it, the plan file) and `reason` (without it, the file's version). With `keep_country` (an upload by
    the monitoring body), a file that would change the country's data or its institutions, which administrators
    keep, is refused. Raises PlanImportRefused."""
    result = ImportResult(plan_code=f.plan.code)
    stored = session.scalar(sa.select(m.Plan.version).filter_by(code=f.plan.code))
    result.revised_from = stored if stored is not None and f.plan.version > stored else None
    default = (f"Revision: version {f.plan.version} of the plan" if result.revised_from
               else f"Plan file import (version {f.plan.version})")
    up = _Upserter(session, result, editing.Editor(operator or IMPORTED_BY, reason or default, channel))
    try:
        _import_all(up, f, keep_country)
    except editing.EditRefused as exc:
        refused = PlanImportRefused(_english(exc))
        refused.refusal = exc  # for the browser, in the user's language
        raise refused from None
    return result


def _english(exc: editing.EditRefused) -> str:
    """The refusal in English: the operator's language on the command line."""
    from flask import has_app_context
    from flask_babel import force_locale

    if not has_app_context():
        return str(exc)
    with force_locale("en"):
        return str(exc)


def _import_all(up: _Upserter, f: s.PlanFile, keep_country: bool) -> None:
    result = up.result
    country = _import_country(up, f.country)
    inst = _import_institutions(up, country, f.institutions)
    if keep_country and (result.created or result.updated or _changes_admin_settings(up.session, inst, f.plan)):
        raise editing.refuse("", _l("The file changes the country's data or its institutions, or the plan's monitoring "
                                    "body or budget clause, which administrators keep: ask an administrator to make "
                                    "those changes, or to import the file."))
    if result.revised_from is not None:
        _keep_version(up, up.session.scalars(sa.select(m.Plan).filter_by(code=f.plan.code)).one())
    plan = _import_plan_row(up, country, inst, f.plan)
    _import_profile(up, plan, inst, f.plan)
    lang = f.plan.original_language
    _import_sections(up, plan, f.plan, lang)
    _import_participants(up, plan, inst, f.plan, lang)
    pillars = _import_pillars(up, plan, f.plan.pillars, lang)
    objectives = _import_objectives(up, plan, pillars, f.plan.objectives, lang)
    actions = _import_actions(up, plan, pillars, objectives, inst, f.plan.actions, lang)
    _import_indicators(up, plan, pillars, objectives, actions, inst, f.plan.indicators, lang)
    if result.revised_from is not None:
        _retire_what_the_revision_left_out(up, plan, f.plan)
    result.counts = {
        "institutions": len(f.institutions),
        "pillars": len(f.plan.pillars),
        "objectives": len(f.plan.objectives),
        "actions": len(f.plan.actions),
        "indicators": len(f.plan.indicators),
    }


def _changes_admin_settings(session: Session, inst: dict[str, m.Institution], p: s.PlanIn) -> bool:
    """Whether the file would change what an admin keeps for a stored plan (/admin/plans/<code>/profile): its
    active monitoring body (whose members review and edit it) or its budget clause."""
    plan = session.scalars(sa.select(m.Plan).filter_by(code=p.code)).one_or_none()
    if plan is None:
        return False
    body = next((b for b in plan.bodies if b.active), None)
    if p.monitoring_body is not None and (body is None or (body.code, body.name_es, body.name_en) != (
            p.monitoring_body.code, p.monitoring_body.name.es, p.monitoring_body.name.en)):
        return True
    if p.budget is None:
        return False
    bound = set(session.scalars(sa.select(m.BudgetBinding.institution_id).filter_by(plan_id=plan.id)))
    profile = plan.profile.budget_profile if plan.profile else None
    return profile != p.budget.profile or bound != {inst[code].id for code in p.budget.binds}


def _import_country(up: _Upserter, c: s.CountryIn) -> m.Country:
    gap, milex = c.gender_gap_index, c.military_expenditure
    return up.upsert(
        m.Country,
        {"iso_code": c.iso_code},
        {
            **_texts("name", c.name),
            "cedaw_ratification_year": c.cedaw_ratification_year,
            "gender_gap_rank": gap.rank if gap else None,
            "gender_gap_of": gap.of if gap else None,
            "gender_gap_year": gap.year if gap else None,
            "att_ratification_year": c.arms_trade_treaty_ratification_year,
            "military_expenditure_amount": milex.amount if milex else None,
            "military_expenditure_currency": milex.currency if milex else None,
            "military_expenditure_year": milex.year if milex else None,
            "data_source": c.data_source,
            # A file without a profile keeps the stored one (another plan of the country, or an admin's correction).
            **({"timezone": c.profile.timezone, "currency": c.profile.currency, "locale": c.profile.locale}
               if c.profile is not None else {}),
        },
    )


def _import_institutions(up: _Upserter, country: m.Country, items: list[s.InstitutionIn]) -> dict[str, m.Institution]:
    existing = up.session.scalars(sa.select(m.Institution).filter_by(country_id=country.id))
    known: dict[str, m.Institution] = {row.code: row for row in existing}
    pending = list(items)
    while pending:  # parents before children; the file was checked for unknown parents
        ready = [i for i in pending if i.parent is None or i.parent in known and i.parent not in {p.code for p in pending}]
        ready = ready or pending[:1]
        for i in ready:
            parent = known.get(i.parent) if i.parent else None
            known[i.code] = up.upsert(
                m.Institution,
                {"country_id": country.id, "code": i.code},
                {**_texts("name", i.name), "kind": i.kind, "parent_id": parent.id if parent else None},
            )
            pending.remove(i)
    return known


def _import_plan_row(up: _Upserter, country: m.Country, inst: dict[str, m.Institution], p: s.PlanIn) -> m.Plan:
    existing = up.session.scalars(sa.select(m.Plan).filter_by(code=p.code)).one_or_none()
    if existing is not None and existing.country_id != country.id:
        # Its entries, reporters and reviewers belong to the other country: a plan never changes country.
        raise PlanImportRefused(f"plan {p.code} already exists for another country; give this plan another code")
    if existing is not None and p.version < existing.version:
        raise PlanImportRefused(f"plan {p.code} is at version {existing.version}; a file of version {p.version} "
                                "cannot replace it (its earlier versions are kept: see the plan's versions)")
    return up.upsert(
        m.Plan,
        {"code": p.code},
        {
            "country_id": country.id,
            "version": p.version,
            **_texts("title", p.title),
            **_texts("summary", p.summary),
            "adoption_year": p.adoption_year,
            "start_year": p.start_year,
            "end_year": p.end_year,
            "lead_institution_id": inst[p.lead_institution].id if p.lead_institution else None,
            **_provenance(p.source, p.original_language),
        },
    )


def _import_profile(up: _Upserter, plan: m.Plan, inst: dict[str, m.Institution], p: s.PlanIn) -> None:
    """The plan's profile; what the file leaves out (its body, its budget clause) stays as stored."""
    budget = {"budget_profile": p.budget.profile} if p.budget is not None else {}
    up.upsert(m.PlanProfile, {"plan_id": plan.id}, {**budget, **_texts("targets_note", p.targets_note)})
    if p.monitoring_body is not None:
        _import_body(up, plan, p.monitoring_body)
    if p.budget is not None:
        _import_bindings(up, plan, inst, p.budget)


def _import_bindings(up: _Upserter, plan: m.Plan, inst: dict[str, m.Institution], budget: s.BudgetIn) -> None:
    wanted = {inst[code].id for code in budget.binds}
    for row in up.session.scalars(sa.select(m.BudgetBinding).filter_by(plan_id=plan.id)):
        if row.institution_id not in wanted:
            up.session.delete(row)
            up.result.updated += 1
    for institution_id in sorted(wanted):
        up.upsert(m.BudgetBinding, {"plan_id": plan.id, "institution_id": institution_id}, {})


def _import_body(up: _Upserter, plan: m.Plan, body: s.BodyIn) -> None:
    """The file's body is the plan's active one; a body the file no longer names stays, inactive, with its members."""
    count = up.session.scalar(sa.select(sa.func.count()).select_from(m.MonitoringBody).filter_by(plan_id=plan.id))
    existing = up.session.scalars(sa.select(m.MonitoringBody).filter_by(plan_id=plan.id, code=body.code)).one_or_none()
    if existing is not None and not existing.active:
        # Its former members would review again without anyone deciding it: a new body takes a new code.
        raise PlanImportRefused(f"monitoring body {body.code} is a former body of plan {plan.code}; give the new body another code")
    for row in up.session.scalars(sa.select(m.MonitoringBody).filter_by(plan_id=plan.id)):
        if row.code != body.code and row.active:
            row.active = False
            up.result.updated += 1
    up.upsert(
        m.MonitoringBody,
        {"plan_id": plan.id, "code": body.code},
        {**_texts("name", body.name), "active": True, **({} if existing else {"position": count})},
    )


def _import_sections(up: _Upserter, plan: m.Plan, p: s.PlanIn, lang: m.Language) -> None:
    order = list(m.PlanTab)
    for tab, section in p.sections.items():
        up.upsert(
            m.PlanSection,
            {"plan_id": plan.id, "tab": tab},
            {**_texts("text", section.text), "position": order.index(tab), **_provenance(section.source, lang)},
        )


def _import_participants(up: _Upserter, plan: m.Plan, inst: dict[str, m.Institution], p: s.PlanIn, lang: m.Language) -> None:
    for pos, a in enumerate(p.actors):
        up.upsert(
            m.PlanActor,
            {"plan_id": plan.id, "institution_id": inst[a.institution].id},
            {"representatives": a.representatives, **_texts("role", a.role), "position": pos, **_provenance(a.source, lang)},
        )
    for pos, x in enumerate(p.monitoring):
        up.upsert(
            m.MonitoringParticipant,
            {"plan_id": plan.id, "institution_id": inst[x.institution].id},
            {**_texts("role", x.role), "position": pos, **_provenance(x.source, lang)},
        )


def _import_pillars(up: _Upserter, plan: m.Plan, items: list[s.PillarIn], lang: m.Language) -> dict[str, m.Pillar]:
    return {
        x.code: up.upsert(
            m.Pillar,
            {"plan_id": plan.id, "code": x.code},
            {
                "kind": x.kind,
                **_texts("name", x.name),
                **_texts("overview", x.overview),
                "position": pos,
                **_provenance(x.source, lang),
            },
        )
        for pos, x in enumerate(items)
    }


def _import_objectives(
    up: _Upserter, plan: m.Plan, pillars: dict[str, m.Pillar], items: list[s.ObjectiveIn], lang: m.Language
) -> dict[str, m.Objective]:
    rows: dict[str, m.Objective] = {}
    outcomes: dict[str, editing.ItemOutcome] = {}
    for pos, x in enumerate(items):
        values = {
            "level": x.level,
            "pillar_id": pillars[x.pillar].id if x.pillar else None,
            **_texts("text", x.text),
            "position": pos,
            **_provenance(x.source, lang),
        }
        rows[x.code], outcomes[x.code] = up.item(plan, m.PlanItemKind.objective, x.code, values)
    for x in items:  # parents may come later in the file
        parent = rows[x.parent].id if x.parent else None
        outcome = outcomes[x.code]
        if outcome.created:  # part of its creation, not a change
            rows[x.code].parent_id = parent
        else:
            outcome.fields += editing.set_fields(up.session, plan, m.PlanItemKind.objective, rows[x.code], {"parent_id": parent}, up.editor)
        up.result.note(outcome)
    up.session.flush()
    return rows


def _import_actions(
    up: _Upserter,
    plan: m.Plan,
    pillars: dict[str, m.Pillar],
    objectives: dict[str, m.Objective],
    inst: dict[str, m.Institution],
    items: list[s.ActionIn],
    lang: m.Language,
) -> dict[str, m.Action]:
    rows: dict[str, m.Action] = {}
    for pos, x in enumerate(items):
        values = {
            "pillar_id": pillars[x.pillar].id,
            "objective_id": objectives[x.objective].id if x.objective else None,
            **_texts("text", x.text),
            "position": pos,
            **_provenance(x.source, lang),
        }
        row, outcome = up.item(plan, m.PlanItemKind.action, x.code, values)
        _responsibility(up, plan, m.PlanItemKind.action, row, outcome, x.responsibility, inst)
        up.result.note(outcome)
        rows[x.code] = row
    return rows


def _responsibility(up: _Upserter, plan: m.Plan, kind: m.PlanItemKind, row: Any, outcome: editing.ItemOutcome,
                    r: s.Responsibility | None, inst: dict[str, m.Institution]) -> None:
    lead = [inst[code] for code in r.lead] if r else []
    support = [inst[code] for code in r.support] if r else []
    verification = r.verification if r else None
    if editing.set_responsibility(up.session, plan, kind, row, lead, support, up.editor, verification) and not outcome.created:
        outcome.fields.append("responsible")


def _import_indicators(
    up: _Upserter,
    plan: m.Plan,
    pillars: dict[str, m.Pillar],
    objectives: dict[str, m.Objective],
    actions: dict[str, m.Action],
    inst: dict[str, m.Institution],
    items: list[s.IndicatorIn],
    lang: m.Language,
) -> None:
    for pos, x in enumerate(items):
        values = {
            "pillar_id": pillars[x.pillar].id if x.pillar else None,
            "objective_id": objectives[x.objective].id if x.objective else None,
            "action_id": actions[x.action].id if x.action else None,
            **_texts("name", x.name),
            "measure": x.measure,
            "counts_people": x.counts_people,
            **_texts("unit", x.unit),
            **_texts("numerator", x.numerator),
            **_texts("denominator", x.denominator),
            "baseline_value": x.baseline.value if x.baseline else None,
            "baseline_year": x.baseline.year if x.baseline else None,
            "direction": x.direction,
            "cumulative": x.cumulative,
            "frequency": x.frequency,
            **_texts("means_of_verification", x.means_of_verification),
            **_texts("data_source", x.data_source),
            "tags": " ".join(x.tags),
            "global_indicator": x.global_indicator,
            **_texts("note", x.note),
            "position": pos,
            **_provenance(x.source, lang),
        }
        row, outcome = up.item(plan, m.PlanItemKind.indicator, x.code, values)
        _responsibility(up, plan, m.PlanItemKind.indicator, row, outcome, x.responsibility, inst)
        for t in x.targets:
            outcome.target_years += editing.set_targets(up.session, row, {t.year: t.value}, up.editor,
                                                        t.verification, t.source_document)
        up.result.note(outcome)


# ----------------------------------------------------------------------------------------------
# Revisions: a file with a higher version replaces the plan's content and keeps the version it replaces


def _keep_version(up: _Upserter, plan: m.Plan) -> None:
    """Store the version in force (its plan file, the items retired by then) before the revision changes it."""
    from tracker.plan.export import HEADER, dump_plan_file, plan_to_file

    retired = [f"{kind.value}:{code}" for kind, model in editing.KINDS.items()
               for code in up.session.scalars(sa.select(model.code).filter_by(plan_id=plan.id).where(model.retired_at.is_not(None)))]
    up.session.add(m.PlanVersion(
        plan_id=plan.id, version=plan.version, title_es=plan.title_es, title_en=plan.title_en,
        adoption_year=plan.adoption_year, source_document=plan.source_document,
        snapshot=HEADER.format(fmt=s.FORMAT) + dump_plan_file(plan_to_file(up.session, plan)),
        retired_items=" ".join(sorted(retired)), superseded_at=utcnow(), superseded_by=up.editor.by,
        reason=up.editor.reason,
    ))
    up.session.flush()


def _retire_what_the_revision_left_out(up: _Upserter, plan: m.Plan, p: s.PlanIn) -> None:
    """Items the new version no longer has are retired (their history and data stay); items it names again
    come back."""
    named = {m.PlanItemKind.objective: {x.code for x in p.objectives}, m.PlanItemKind.action: {x.code for x in p.actions},
             m.PlanItemKind.indicator: {x.code for x in p.indicators}}
    why = f"Not in version {p.version} of the plan: {up.editor.reason}"
    for kind, model in editing.KINDS.items():
        for row in up.session.scalars(sa.select(model).filter_by(plan_id=plan.id).order_by(model.position)):
            if row.code not in named[kind] and not row.retired:
                editing.retire(up.session, plan, kind, row, editing.Editor(up.editor.by, why, up.editor.channel))
                up.result.note(editing.ItemOutcome(kind, row.code, fields=["retired"]))
            elif row.code in named[kind] and row.retired:
                editing.restore(up.session, plan, kind, row, up.editor)
                up.result.note(editing.ItemOutcome(kind, row.code, fields=["restored"]))


class PlanImportRefused(Exception):
    """The file breaks a rule of the plan (e.g. it would change what approved data means); one line for the operator
    (in English); `refusal` is the editing service's refusal when it was one (translated when shown)."""

    refusal: editing.EditRefused | None = None
