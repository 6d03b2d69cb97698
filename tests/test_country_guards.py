"""What keeps two countries apart when someone tries to mix them (issue 14, review findings): an institution
never changes country, a plan never changes country, a former monitoring body never comes back with its old
members, a plan file without a profile keeps the stored one, and profile values are written as the app reads them."""

from __future__ import annotations

import html
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from conftest import chile_data, chile_plan_file
from test_country_admin import country, institution_form, institutions_of
from tracker.auth.models import Role
from tracker.db import db
from tracker.plan import models as m
from tracker.plan.loader import PlanImportRefused, import_plan, validate_plan_data
from tracker.plan.schema import check_locale, check_timezone
from tracker.progress.models import ActionStatus, CycleState, Entry, EntryKind, EntryState, ReportingCycle


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _variant(change) -> object:
    data = chile_data()
    change(data)
    return validate_plan_data(data, "chile variant")


def _import(app, plan_file) -> None:
    with app.app_context():
        try:
            import_plan(db.session, plan_file)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise


def _mindef(iso: str) -> int:
    return db.session.scalars(sa.select(m.Institution.id).join(m.Country)
                              .where(m.Country.iso_code == iso, m.Institution.code == "MINDEF")).one()


# -- institutions and plans stay in their country --------------------------------------------------


def test_an_institution_cannot_be_moved_to_another_country(app, login_as, chile):
    admin = login_as(Role.admin)
    with app.app_context():
        mindef = _mindef("CL")
    response = admin.post_form(f"/admin/institutions/{mindef}", institution_form(app, "PE", code="MINDEF-CL"))
    assert response.status_code == 200  # the institution form is drawn again with its errors
    assert "Una institución permanece en su país: cree la institución en el otro país." in text(response)
    chile_id = country(app, "CL").id
    with app.app_context():
        assert db.session.get(m.Institution, mindef).country_id == chile_id
    assert "MINDEF-CL" not in institutions_of(app, "PE")


def test_a_plan_file_of_another_country_cannot_take_over_a_plans_code(app, chile):
    def as_peru_code(data):
        data["plan"]["code"] = "PE-2021"

    with pytest.raises(PlanImportRefused, match="another country"):
        _import(app, _variant(as_peru_code))
    with app.app_context():
        plan = db.session.scalars(sa.select(m.Plan).filter_by(code="PE-2021")).one()
        assert plan.country.iso_code == "PE" and plan.title_en.startswith("From Acceptance")


def test_a_former_monitoring_body_does_not_come_back_by_import(app, chile, make_user):
    def new_body(data):
        data["plan"]["monitoring_body"] = {"code": "MESA-2", "name": {"es": "Nueva mesa", "en": "New roundtable"}}

    user_id, _ = make_user(Role.committee, email="mesa@example.cl", institution="CL:MINREL", plans=("CL-2022",))
    _import(app, _variant(new_body))
    with pytest.raises(PlanImportRefused, match="former body"):
        _import(app, chile_plan_file())  # names the first body again
    with app.app_context():
        plan = db.session.scalars(sa.select(m.Plan).filter_by(code="CL-2022")).one()
        assert sorted((b.code, b.active) for b in plan.bodies) == [("MESA-1325", False), ("MESA-2", True)]
        from tracker.auth.models import User

        assert db.session.get(User, user_id).reviewed_plan_ids == frozenset()


# -- a file without a profile keeps what is stored --------------------------------------------------


def test_a_plan_file_without_profile_or_budget_keeps_the_stored_ones(app, chile):
    def bare(data):
        del data["country"]["profile"]
        del data["plan"]["budget"]

    _import(app, _variant(bare))
    with app.app_context():
        plan = db.session.scalars(sa.select(m.Plan).filter_by(code="CL-2022")).one()
        c = plan.country
        assert (c.timezone, c.currency, c.locale) == ("America/Santiago", "CLP", "es_CL")
        assert plan.profile.budget_profile == m.BudgetProfile.generic
        bound = db.session.scalars(sa.select(m.Institution.code).join(m.BudgetBinding)
                                   .where(m.BudgetBinding.plan_id == plan.id).order_by(m.Institution.code)).all()
        assert bound == ["MINDEF", "MMEG"]


# -- profile values as the app reads them -------------------------------------------------------------


@pytest.mark.parametrize("name", ["localtime", "Factory", "Mars/Olympus"])
def test_names_that_are_not_time_zones_are_refused(name):
    with pytest.raises(ValueError):
        check_timezone(name)


@pytest.mark.parametrize("written, stored", [("es_cl", "es_CL"), ("es-CL", "es_CL"), ("EN", "en"), ("en_GB", "en_GB")])
def test_locales_are_stored_as_babel_writes_them(written, stored):
    assert check_locale(written) == stored


def test_an_admin_cannot_give_a_country_a_zone_the_pages_could_not_use(app, login_as, chile):
    admin = login_as(Role.admin)
    cl = country(app, "CL")
    response = admin.post_form(f"/admin/countries/{cl.id}", {"timezone": "localtime", "currency": "CLP", "locale": "es_cl"})
    assert response.status_code == 400
    assert "localtime no es una zona horaria: use un nombre IANA como America/Lima." in text(response)
    with app.app_context():
        assert db.session.get(m.Country, cl.id).timezone == "America/Santiago"
    assert admin.post_form(f"/admin/countries/{cl.id}", {"timezone": "America/Santiago", "currency": "CLP",
                                                        "locale": "es_cl"}).status_code == 302
    with app.app_context():
        assert db.session.get(m.Country, cl.id).locale == "es_CL"


# -- the review queue shows each entry's time in its plan's time zone ----------------------------------


def test_review_queue_times_are_in_each_plans_time_zone(app, login_as, chile):
    reviewer = login_as(Role.committee, email="ambos@example.org", plans=("PE-2021", "CL-2022"))
    moment = datetime(2026, 1, 15, 3, 30, tzinfo=timezone.utc)  # 22:30 in Lima, 00:30 in Santiago (summer)
    with app.app_context():
        for code in ("PE-2021", "CL-2022"):
            plan = db.session.scalars(sa.select(m.Plan).filter_by(code=code)).one()
            cycle = ReportingCycle(plan_id=plan.id, year=2025, deadline=date(2026, 3, 31), state=CycleState.open)
            db.session.add(cycle)
            db.session.flush()
            action = db.session.scalars(sa.select(m.Action).filter_by(plan_id=plan.id).order_by(m.Action.id)).first()
            db.session.add(Entry(cycle_id=cycle.id, institution_id=_mindef(plan.country.iso_code), kind=EntryKind.action,
                                 action_id=action.id, state=EntryState.submitted, version=1, submitted_at=moment,
                                 action_status=ActionStatus.ongoing))
        db.session.commit()
    page = text(reviewer.get("/review"))
    assert "14/01/26, 10:30" in page and "15/01/26, 12:30" in page  # the same moment, two days
