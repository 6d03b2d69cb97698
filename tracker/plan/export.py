"""Write a stored plan back to the plan file format (the inverse of tracker.plan.loader.import_plan)."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session, selectinload

from tracker.plan import models as m
from tracker.plan import schema as s
from tracker.plan.services import monitoring_body

HEADER = "# NAP Tracker plan file ({fmt}), exported from the database. Format: see the top of seed/peru-2021.yaml\n"


class PlanNotFound(LookupError):
    """No plan has the given code."""


def export_plan(session: Session, code: str) -> str:
    """Return the plan with this code as plan-file YAML text."""
    plan = session.scalars(sa.select(m.Plan).filter_by(code=code)).one_or_none()
    if plan is None:
        raise PlanNotFound(code)
    return HEADER.format(fmt=s.FORMAT) + dump_plan_file(plan_to_file(session, plan))


def dump_plan_file(f: s.PlanFile) -> str:
    """A plan file model as YAML text (without the header)."""
    data = f.model_dump(mode="python", exclude_defaults=True)
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


def plan_to_file(session: Session, plan: m.Plan) -> s.PlanFile:
    """Build the validated file model of a stored plan."""
    lang = plan.original_language
    institutions = session.scalars(
        sa.select(m.Institution).filter_by(country_id=plan.country_id).order_by(m.Institution.id)
    ).all()
    codes = {i.id: i.code for i in institutions}
    return s.PlanFile(
        format=s.FORMAT,
        country=_country(plan.country),
        institutions=[
            s.InstitutionIn(code=i.code, name=_text(i, "name"), kind=i.kind, parent=codes.get(i.parent_id))
            for i in institutions
        ],
        plan=_plan(session, plan, codes, lang),
    )


def _text(row: Any, prefix: str, cls: type = s.Text) -> Any:
    return cls(es=getattr(row, f"{prefix}_es"), en=getattr(row, f"{prefix}_en"))


def _opt(row: Any, prefix: str) -> s.OptionalText:
    return _text(row, prefix, s.OptionalText)


def _source(row: Any, plan_lang: m.Language) -> s.Source:
    lang = row.original_language if row.original_language != plan_lang else None
    return s.Source(
        document=row.source_document, section=row.source_section, verification=row.verification, original_language=lang
    )


def _country(c: m.Country) -> s.CountryIn:
    gap = s.GenderGap(rank=c.gender_gap_rank, of=c.gender_gap_of, year=c.gender_gap_year) if c.gender_gap_rank else None
    milex = None
    if c.military_expenditure_amount is not None:
        milex = s.MilitaryExpenditure(
            amount=c.military_expenditure_amount,
            currency=c.military_expenditure_currency,
            year=c.military_expenditure_year,
        )
    return s.CountryIn(
        iso_code=c.iso_code,
        name=_text(c, "name"),
        cedaw_ratification_year=c.cedaw_ratification_year,
        gender_gap_index=gap,
        arms_trade_treaty_ratification_year=c.att_ratification_year,
        military_expenditure=milex,
        data_source=c.data_source,
        profile=s.ProfileIn(timezone=c.timezone, currency=c.currency, locale=c.locale),
    )


def _plan(session: Session, p: m.Plan, codes: dict[int, str], lang: m.Language) -> s.PlanIn:
    def rows(model: type, *options: Any) -> list[Any]:
        query = sa.select(model).filter_by(plan_id=p.id).order_by(model.position, model.id).options(*options)
        return list(session.scalars(query))

    pillars = {x.id: x.code for x in rows(m.Pillar)}
    objectives = rows(m.Objective)
    objective_codes = {x.id: x.code for x in objectives}
    actions = rows(m.Action, selectinload(m.Action.institutions))
    action_codes = {x.id: x.code for x in actions}
    body = monitoring_body(p)
    binds = session.scalars(sa.select(m.BudgetBinding.institution_id).filter_by(plan_id=p.id)).all()
    profile = p.profile or m.PlanProfile(budget_profile=m.BudgetProfile.generic, targets_note_es="", targets_note_en="")
    return s.PlanIn(
        code=p.code,
        version=p.version,
        title=_text(p, "title"),
        original_language=lang,
        summary=_opt(p, "summary"),
        adoption_year=p.adoption_year,
        start_year=p.start_year,
        end_year=p.end_year,
        lead_institution=codes.get(p.lead_institution_id),
        monitoring_body=s.BodyIn(code=body.code, name=_text(body, "name")) if body else None,
        budget=s.BudgetIn(profile=profile.budget_profile, binds=sorted(codes[i] for i in binds)),
        targets_note=_opt(profile, "targets_note"),
        source=_source(p, lang),
        sections={x.tab: s.SectionIn(text=_text(x, "text"), source=_source(x, lang)) for x in rows(m.PlanSection)},
        actors=[
            s.ActorIn(
                institution=codes[x.institution_id],
                representatives=x.representatives,
                role=_opt(x, "role"),
                source=_source(x, lang),
            )
            for x in rows(m.PlanActor)
        ],
        monitoring=[
            s.MonitoringIn(institution=codes[x.institution_id], role=_opt(x, "role"), source=_source(x, lang))
            for x in rows(m.MonitoringParticipant)
        ],
        pillars=[
            s.PillarIn(code=x.code, kind=x.kind, name=_text(x, "name"), overview=_opt(x, "overview"), source=_source(x, lang))
            for x in rows(m.Pillar)
        ],
        objectives=[
            s.ObjectiveIn(
                code=x.code,
                level=x.level,
                parent=objective_codes.get(x.parent_id),
                pillar=pillars.get(x.pillar_id),
                text=_text(x, "text"),
                source=_source(x, lang),
            )
            for x in objectives
        ],
        actions=[
            s.ActionIn(
                code=x.code,
                pillar=pillars[x.pillar_id],
                objective=objective_codes.get(x.objective_id),
                text=_text(x, "text"),
                responsibility=_responsibility(x.institutions, codes),
                source=_source(x, lang),
            )
            for x in actions
        ],
        indicators=[
            _indicator(x, pillars, objective_codes, action_codes, codes, lang)
            for x in rows(m.Indicator, selectinload(m.Indicator.responsible), selectinload(m.Indicator.targets))
        ],
    )


def _responsibility(links: list[Any], codes: dict[int, str]) -> s.Responsibility | None:
    if not links:
        return None
    ordered = sorted(links, key=lambda link: link.position)
    return s.Responsibility(
        lead=[codes[x.institution_id] for x in ordered if x.role == m.ResponsibilityRole.lead],
        support=[codes[x.institution_id] for x in ordered if x.role == m.ResponsibilityRole.support],
        verification=ordered[0].verification,
    )


def _indicator(
    x: m.Indicator,
    pillars: dict[int, str],
    objectives: dict[int, str],
    actions: dict[int, str],
    codes: dict[int, str],
    lang: m.Language,
) -> s.IndicatorIn:
    baseline = s.BaselineIn(value=x.baseline_value, year=x.baseline_year) if x.baseline_value is not None else None
    return s.IndicatorIn(
        code=x.code,
        pillar=pillars.get(x.pillar_id),
        objective=objectives.get(x.objective_id),
        action=actions.get(x.action_id),
        name=_text(x, "name"),
        measure=x.measure,
        counts_people=x.counts_people,
        unit=_opt(x, "unit"),
        numerator=_opt(x, "numerator"),
        denominator=_opt(x, "denominator"),
        baseline=baseline,
        direction=x.direction,
        cumulative=x.cumulative,
        frequency=x.frequency,
        means_of_verification=_opt(x, "means_of_verification"),
        data_source=_opt(x, "data_source"),
        responsibility=_responsibility(x.responsible, codes),
        tags=x.tags.split(),
        global_indicator=x.global_indicator,
        targets=[
            s.TargetIn(year=t.year, value=t.value, verification=t.verification, source_document=t.source_document)
            for t in x.targets
        ],
        note=_opt(x, "note"),
        source=_source(x, lang),
    )


class _Dumper(yaml.SafeDumper):
    """YAML writer that knows enums (written by value) and decimals (written as plain numbers)."""


def _represent_enum(dumper: yaml.SafeDumper, value: enum.Enum) -> yaml.Node:
    return dumper.represent_str(str(value.value))


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    if value == value.to_integral_value():
        return dumper.represent_int(int(value))
    text = format(value.normalize(), "f")
    return dumper.represent_scalar("tag:yaml.org,2002:float", text)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_multi_representer(enum.Enum, _represent_enum)
_Dumper.add_representer(Decimal, _represent_decimal)
_Dumper.add_representer(str, _represent_str)
