"""Peru's 2021 plan as seeded: the facts of the source, provenance on every item, idempotence."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from tracker.plan import models as m
from tracker.plan.loader import PERU_SEED, import_plan, read_plan_file

SOURCE_TEXT = "seed-docs/000_bffeef9c05e3cabd.txt"
BUDGET_CLAUSE = (
    "Each institution included in the implementation of this NAP must include in its annual budget an item "
    "destined to the financing of the activities that correspond to them"
)


def _one(session, model, **keys):
    return session.scalars(sa.select(model).filter_by(**keys)).one()


def _count(session, model, **keys) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**keys))


@pytest.fixture
def plan(peru, session):
    return _one(session, m.Plan, code="PE-2021")


def test_plan_identity(plan):
    assert plan.title_en == "From Acceptance to Inclusion"
    assert plan.title_es == "De la Aceptación a la Inclusión"
    assert plan.adoption_year == 2021
    assert (plan.start_year, plan.end_year) == (None, None)
    assert plan.lead_institution.code == "MINDEF"
    assert plan.original_language == m.Language.en


def test_country_data_points(plan):
    c = plan.country
    assert (c.iso_code, c.name_es, c.name_en) == ("PE", "Perú", "Peru")
    assert c.cedaw_ratification_year == 1982
    assert (c.gender_gap_rank, c.gender_gap_of, c.gender_gap_year) == (37, 146, 2022)
    assert c.att_ratification_year == 2016
    assert c.military_expenditure_amount == Decimal("2361000000")
    assert (c.military_expenditure_currency, c.military_expenditure_year) == ("USD", 2019)


def test_institutions_of_domain_table(session, peru):
    codes = set(session.scalars(sa.select(m.Institution.code)))
    assert codes == {"MINDEF", "CCFFAA", "EP", "MGP", "FAP", "RREE", "MIMP", "MININTER", "MINJUSDH", "PCM", "CIG-MINDEF"}
    committee = _one(session, m.Institution, code="CIG-MINDEF")
    assert committee.parent.code == "MINDEF"
    assert _one(session, m.Institution, code="MGP").name_es == "Marina de Guerra del Perú"


def test_all_eight_tabs(session, plan):
    tabs = {s.tab for s in plan.sections}
    assert tabs == set(m.PlanTab)


@pytest.mark.parametrize(
    ("tab", "verbatim"),
    [
        ("timeframe", "There is no clear timeframe for the implementation of the NAP."),
        ("disarmament", "There are no specific actions related to disarmament in the Peruvian NAP."),
        ("budget", BUDGET_CLAUSE),
    ],
)
def test_tab_texts_word_for_word(session, plan, tab, verbatim):
    section = _one(session, m.PlanSection, plan_id=plan.id, tab=m.PlanTab(tab))
    assert verbatim in " ".join(section.text_en.split())
    assert section.text_es  # a Spanish translation is present
    assert section.verification == m.Verification.verbatim


def test_actors_and_their_representatives(session, plan):
    actors = session.scalars(sa.select(m.PlanActor).filter_by(plan_id=plan.id).order_by(m.PlanActor.position)).all()
    assert [(a.institution.code, a.representatives) for a in actors] == [
        ("MINDEF", 7), ("CCFFAA", 2), ("EP", 2), ("MGP", 1), ("FAP", 1)
    ]


def test_monitoring_institutions(session, plan):
    codes = {x.institution.code for x in session.scalars(sa.select(m.MonitoringParticipant).filter_by(plan_id=plan.id))}
    assert {"CIG-MINDEF", "RREE", "MIMP", "MININTER", "MINJUSDH", "PCM"} <= codes


def test_pillars(session, plan):
    pillars = {p.code: p for p in plan.pillars}
    assert [p.kind for p in plan.pillars] == [
        m.PillarKind.participation, m.PillarKind.prevention, m.PillarKind.protection, m.PillarKind.relief_recovery
    ]
    assert pillars["REC"].name_es == "Socorro y Recuperación"
    assert "Women’s Empowerment and Gender Analysis" in pillars["PRE"].overview_en
    assert "sexual and reproductive health" in pillars["PRO"].overview_en


def test_six_general_objectives_word_for_word(session, plan):
    general = session.scalars(
        sa.select(m.Objective).filter_by(plan_id=plan.id, level=m.ObjectiveLevel.general).order_by(m.Objective.position)
    ).all()
    assert len(general) == 6
    assert all(o.verification == m.Verification.verbatim and o.text_es for o in general)
    assert " ".join(general[0].text_en.split()) == (
        "To promote the empowerment and participation of women in the Armed Forces, "
        "motivating a transition from acceptance to inclusion."
    )


def test_specific_objectives_are_marked_as_summary(session, plan):
    specific = session.scalars(sa.select(m.Objective).filter_by(plan_id=plan.id, level=m.ObjectiveLevel.specific)).all()
    assert len(specific) == 8
    assert {o.verification for o in specific if o.code != "OE-1"} == {m.Verification.summary}


def test_seven_actions_in_two_pillars(session, plan):
    counts = dict(
        session.execute(
            sa.select(m.Pillar.code, sa.func.count(m.Action.id))
            .join(m.Action, m.Action.pillar_id == m.Pillar.id, isouter=True)
            .where(m.Pillar.plan_id == plan.id)
            .group_by(m.Pillar.code)
        ).all()
    )
    assert counts == {"PAR": 3, "PRE": 0, "PRO": 0, "REC": 4}
    rec4 = _one(session, m.Action, plan_id=plan.id, code="REC-4")
    assert " ".join(rec4.text_en.split()).startswith("Incorporate personnel who fulfill the function of disseminating")


def test_action_responsibility_is_derived(session, plan):
    links = session.scalars(sa.select(m.ActionInstitution)).all()
    assert links and {link.verification for link in links} == {m.Verification.derived}


def test_indicators_named_and_derived(session, plan):
    indicators = {i.code: i for i in session.scalars(sa.select(m.Indicator).filter_by(plan_id=plan.id))}
    assert len(indicators) == 11
    named = indicators["IND-OE1-1"]
    assert named.verification == m.Verification.verbatim and named.counts_people
    assert "trained in gender and women empowerment" in named.name_en
    assert {"PRE-1", "PRE-2", "PRE-3"} <= set(indicators)
    derived = [i for i in indicators.values() if i.verification == m.Verification.derived]
    assert len(derived) == 7
    assert {i.action.code for i in derived} == {"PAR-1", "PAR-2", "PAR-3", "REC-1", "REC-2", "REC-3", "REC-4"}


def test_no_invented_baselines_or_targets(session, peru):
    assert _count(session, m.IndicatorTarget) == 0
    assert session.scalar(sa.select(sa.func.count()).where(m.Indicator.baseline_value.is_not(None))) == 0


@pytest.mark.parametrize(
    "model",
    [m.Plan, m.PlanSection, m.PlanActor, m.MonitoringParticipant, m.Pillar, m.Objective, m.Action, m.Indicator],
)
def test_every_item_says_where_it_came_from(session, peru, model):
    rows = session.scalars(sa.select(model)).all()
    assert rows
    for row in rows:
        assert row.source_document, f"{model.__name__} {row.id} has no source"
        assert row.verification in set(m.Verification)


def test_verbatim_english_texts_appear_in_the_source(session, peru):
    """Whatever is marked verbatim (from the NAP database page) is really in the seed document."""
    from tracker import PROJECT_ROOT

    path = PROJECT_ROOT.parent / "shared" / SOURCE_TEXT
    if not path.exists():
        pytest.skip("the shared seed documents are not beside this checkout")
    source = " ".join(path.read_text(encoding="utf-8").split())
    checked = 0
    for model in (m.Objective, m.Action):
        for row in session.scalars(sa.select(model).filter_by(verification=m.Verification.verbatim)):
            assert " ".join(row.text_en.split()) in source, f"{row.code} is marked verbatim but is not in the source"
            checked += 1
    assert checked == 14  # 6 general objectives, OE-1 (quoted in the Indicators tab), 7 actions


def test_seed_is_idempotent(session, peru):
    before = {model: _count(session, model) for model in (m.Institution, m.Objective, m.Action, m.Indicator, m.ActionInstitution)}
    result = import_plan(session, read_plan_file(PERU_SEED))
    session.flush()
    assert (result.created, result.updated) == (0, 0)
    assert {model: _count(session, model) for model in before} == before
