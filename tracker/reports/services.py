"""Annual report services: build the dataset (a fixed number of queries), record the committee's
validation, and mark a year final by storing every format in both languages."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from tracker import audit, permissions, storage
from tracker.db import utcnow
from tracker.domain import PermissionDenied, ValidationFailed, WorkflowError
from tracker.i18n import plan_locale
from tracker.plan.models import Plan
from tracker.progress.models import ReportingCycle
from tracker.reports.dataset import ReportDataset, Section, build_annual_report
from tracker.reports.exporters import FORMATS, export
from tracker.reports.models import FinalReport, FinalReportMark, ReportCommentary, ReportValidation

LANGUAGES = ("es", "en")


def annual_report(
    session: Session, plan: Plan, year: int, language: str, include_pending: bool = False, final: bool = False,
    extra_sections: list[Section] | None = None,
) -> ReportDataset:
    """The report dataset for a plan and year, with the budget section, the committee's validation and any extras."""
    from tracker.budget.report import budget_section
    from tracker.reports.pending import pending_section
    from tracker.reports.reports_by_institution import reports_section

    validation = get_validation(session, plan.id, year)
    notes = {row.scope: row for row in commentary(session, plan, year)}
    with force_locale(plan_locale(plan, language)):
        extras = [reports_section(session, plan, year, include_pending), budget_section(session, plan, year, include_pending)]
        if include_pending:
            extras.append(pending_section(session, plan, year))
    extras += extra_sections or []
    return build_annual_report(session, plan, year, language, include_pending, final, extras, validation=validation,
                               commentary=notes)


def get_validation(session: Session, plan_id: int, year: int) -> ReportValidation | None:
    """The committee's validation of a year's report, if recorded."""
    return session.scalars(sa.select(ReportValidation).filter_by(plan_id=plan_id, year=year)).one_or_none()


def has_cycle(session: Session, plan: Plan, year: int) -> bool:
    return session.scalar(sa.select(sa.func.count()).select_from(ReportingCycle).filter_by(plan_id=plan.id, year=year)) > 0


# -- validation -----------------------------------------------------------------------------------


@dataclass
class ValidationInput:
    validated_on: date | None
    minutes_reference: str
    recommendations: str = ""
    achievements: str = ""
    challenges: str = ""
    lessons_learned: str = ""

    def check(self, year: int) -> None:
        """Raise ValidationFailed unless the date and minutes reference make sense for the year."""
        errors = []
        if self.validated_on is None:
            errors.append(("validated_on", str(_l("Enter the date of the committee's session."))))
        elif self.validated_on > date.today():
            errors.append(("validated_on", str(_l("The date cannot be in the future."))))
        elif self.validated_on.year < year:
            errors.append(("validated_on", str(_l("The report for %(year)s can be validated only from %(year)s on.", year=year))))
        if not self.minutes_reference.strip():
            errors.append(("minutes_reference", str(_l("Enter the reference of the minutes."))))
        if errors:
            raise ValidationFailed(errors)


def save_validation(session: Session, plan: Plan, year: int, data: ValidationInput, user) -> ReportValidation:
    """Create or update the committee's validation of a year's report (audited)."""
    if not has_cycle(session, plan, year):
        raise WorkflowError(str(_l("%(plan)s has no reporting cycle for %(year)s.", plan=plan.code, year=year)))
    data.check(year)
    row = get_validation(session, plan.id, year) or ReportValidation(plan_id=plan.id, year=year)
    for name in ("validated_on", "minutes_reference", "recommendations", "achievements", "challenges", "lessons_learned"):
        setattr(row, name, getattr(data, name).strip() if isinstance(getattr(data, name), str) else getattr(data, name))
    row.updated_by_id, row.updated_at = getattr(user, "id", None), utcnow()
    session.add(row)
    session.flush()
    audit.record(session, "report.validated", actor=user, target=row, plan=plan.code, year=year, minutes=row.minutes_reference)
    return row


# -- the committee's commentary -------------------------------------------------------------------

PLAN_SCOPE = ""  # the commentary on the whole plan; a pillar's has the pillar's code


def commentary(session: Session, plan: Plan, year: int) -> list[ReportCommentary]:
    """The committee's commentary on the year: the whole plan's and each pillar's that has any."""
    return list(session.scalars(sa.select(ReportCommentary).filter_by(plan_id=plan.id, year=year)
                                .order_by(ReportCommentary.scope)))


def commentary_scopes(session: Session, plan: Plan) -> list[str]:
    """What the committee comments on: the whole plan, then each pillar by its code."""
    from tracker.plan.models import Pillar

    pillars = session.scalars(sa.select(Pillar.code).filter_by(plan_id=plan.id).order_by(Pillar.position, Pillar.code))
    return [PLAN_SCOPE, *pillars]


def save_commentary(session: Session, plan: Plan, year: int, texts: dict[str, tuple[str, str]], user) -> list[str]:
    """Keep the committee's findings and recommendations per scope (the whole plan, or a pillar's code) as a draft
    of the year's report; empty texts remove a scope's commentary. Returns the scopes that changed (audited)."""
    if not permissions.can_validate_reports(user, plan):
        raise PermissionDenied()
    if not has_cycle(session, plan, year):
        raise WorkflowError(str(_l("%(plan)s has no reporting cycle for %(year)s.", plan=plan.code, year=year)))
    known = set(commentary_scopes(session, plan))
    if set(texts) - known:
        raise ValidationFailed([("", str(_l("Comment on the whole plan or on one of its pillars.")))])
    rows = {row.scope: row for row in commentary(session, plan, year)}
    changed = []
    for scope, (findings, recommendations) in texts.items():
        findings, recommendations = findings.strip(), recommendations.strip()
        row = rows.get(scope)
        if row is not None and (row.findings, row.recommendations) == (findings, recommendations):
            continue
        if row is None and not (findings or recommendations):
            continue
        changed.append(scope)
        if not (findings or recommendations):
            session.delete(row)
            continue
        row = row or ReportCommentary(plan_id=plan.id, year=year, scope=scope)
        row.findings, row.recommendations = findings, recommendations
        row.updated_by, row.updated_at = user.name, utcnow()
        session.add(row)
    if changed:
        session.flush()
        audit.record(session, "report.commentary_saved", actor=user, target=plan, year=year,
                     scopes=[scope or "plan" for scope in changed])
    return changed


# -- final reports --------------------------------------------------------------------------------


REPORTS = "reports/"  # the final reports' keys in the store (tracker.storage)


def final_reports(session: Session, plan_ids: list[int]) -> list[FinalReport]:
    """Every stored final file of these plans, newest version first."""
    query = (
        sa.select(FinalReport).where(FinalReport.plan_id.in_(plan_ids))
        .order_by(FinalReport.year.desc(), FinalReport.version.desc(), FinalReport.language, FinalReport.format)
    )
    return list(session.scalars(query))


def check_finalizable(session: Session, plan: Plan, year: int) -> None:
    """Refuse (WorkflowError) a year that has no cycle, or whose report the committee has not validated."""
    if not has_cycle(session, plan, year):
        raise WorkflowError(str(_l("%(plan)s has no reporting cycle for %(year)s.", plan=plan.code, year=year)))
    if get_validation(session, plan.id, year) is None:
        raise WorkflowError(str(_l("Record the committee's validation before marking the report final.")))


def finalize(session: Session, plan: Plan, year: int, user, progress=None) -> list[FinalReport]:
    """Mark a year's report final: write every format in both languages and store them as a new version;
    `progress(done, total)` is told after each file (the background task's progress bar).

    Every file is made before anything is written, so the version number is taken (and locked) only for the
    moment it takes to store them. Stored files are never rewritten, so later approvals change the live report but
    not a final one.
    """
    check_finalizable(session, plan, year)
    total = len(LANGUAGES) * len(FORMATS)
    files = []
    for language in LANGUAGES:
        dataset = annual_report(session, plan, year, language, include_pending=False, final=True)
        for fmt in FORMATS:
            files.append((dataset, fmt, export(dataset, fmt)))
            if progress is not None:
                progress(len(files), total)
    version = next_final_version(session, plan, year)
    # A failure rolls back the rows and their files alike (tracker.storage).
    rows = [_store(session, dataset, plan, version, fmt, data, user) for dataset, fmt, data in files]
    session.flush()
    audit.record(session, "report.finalized", actor=user, target=plan, year=year, version=version,
                 files={f"{r.language}.{r.format}": r.sha256 for r in rows})
    return rows


def next_final_version(session: Session, plan: Plan, year: int) -> int:
    """One more than any version the plan's year was ever given (stored, or published before a restore),
    and remembered as given; the mark is locked so that two finalisations cannot take the same number."""
    mark = session.scalars(sa.select(FinalReportMark).filter_by(plan_id=plan.id, year=year).with_for_update()).one_or_none()
    stored = session.scalar(sa.select(sa.func.max(FinalReport.version)).filter_by(plan_id=plan.id, year=year)) or 0
    version = max(stored, mark.last_version if mark else 0) + 1
    if mark is None:
        session.add(FinalReportMark(plan_id=plan.id, year=year, last_version=version))
    else:
        mark.last_version = version
    return version


def raise_final_marks(session: Session, marks: dict[tuple[str, int], int]) -> None:
    """Make sure no version up to marks[(plan code, year)] is given again (after a restore)."""
    plans = {p.code: p for p in session.scalars(sa.select(Plan).where(Plan.code.in_({code for code, _ in marks})))}
    for (code, year), version in marks.items():
        if code not in plans:
            continue
        mark = session.get(FinalReportMark, (plans[code].id, year))
        if mark is None:
            session.add(FinalReportMark(plan_id=plans[code].id, year=year, last_version=version))
        elif mark.last_version < version:
            mark.last_version = version


def _store(session: Session, dataset: ReportDataset, plan: Plan, version: int, fmt: str, data: bytes, user) -> FinalReport:
    """Store one format of a final dataset under a random name (it appears when the session commits) and
    record it with its hash."""
    stored_name = f"{secrets.token_hex(16)}.{FORMATS[fmt].extension}"
    storage.store().save_after_commit(session, final_key(stored_name), data)
    row = FinalReport(
        plan_id=plan.id, year=dataset.meta["year"], version=version, language=dataset.meta["language"], format=fmt,
        stored_name=stored_name, size=len(data), sha256=hashlib.sha256(data).hexdigest(), finalized_by_id=getattr(user, "id", None),
    )
    session.add(row)
    return row


def final_key(stored_name: str) -> str:
    return REPORTS + stored_name


def read_final(report: FinalReport) -> bytes:
    """The stored file, checked against its recorded hash (a changed file is refused, not served)."""
    data = storage.store().read(final_key(report.stored_name))
    if hashlib.sha256(data).hexdigest() != report.sha256:
        raise WorkflowError(f"stored report {report.stored_name} does not match its hash")
    return data


def download_name(plan_code: str, year: int, language: str, fmt: str, suffix: str = "") -> str:
    """A file name such as PE-2021-2025-es.pdf (csv downloads are zips)."""
    return f"{plan_code}-{year}-{language}{suffix}.{FORMATS[fmt].extension}"
