"""The real journeys, in a real browser."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from browser import YEAR, login, shot
from tracker.auth.models import Role

pytestmark = pytest.mark.e2e
from tracker.db import db
from tracker.progress.models import DeadlineException, Entry, EntryState, Evidence, ReportingCycle

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _entry_state(app):
    with app.app_context():
        return db.session.scalars(sa.select(Entry.state)).one()


def test_navy_reporter_reports_an_indicator(app, make_user, new_page, open_cycle, tmp_path):
    _, email = make_user(Role.reporter, institution="MGP")
    evidence = tmp_path / "constancia.pdf"
    evidence.write_bytes(PDF)
    page = new_page()
    login(page, email)
    assert page.locator("html").get_attribute("lang") == "es"
    page.goto(f"/plans/PE-2021/report/{YEAR}")
    page.locator('a[href$="/indicators/IND-PAR-2"]').click()
    page.fill("#women", "26")
    page.fill("#men", "179")
    page.fill("#narrative", "Despliegue en MINUSCA")
    page.set_input_files("#evidence", str(evidence))
    shot(page, "entry-form-es")
    page.locator("button[name=save]").click()
    assert _entry_state(app) == EntryState.draft
    page.locator('a[href$="/indicators/IND-PAR-2"]').click()
    assert page.input_value("#women") == "26"
    page.locator("button[name=send]").click()
    assert _entry_state(app) == EntryState.submitted
    with app.app_context():
        assert db.session.scalars(sa.select(Evidence.original_name)).one() == "constancia.pdf"
    shot(page, "worklist-es")


def test_return_fix_resubmit_approve_changes_the_dashboard(app, make_user, new_page, open_cycle):
    _, navy_email = make_user(Role.reporter, institution="MGP")
    _, committee_email = make_user(Role.committee)
    navy, committee = new_page(), new_page()
    login(navy, navy_email)
    navy.goto(f"/plans/PE-2021/report/{YEAR}/actions/PAR-1")
    navy.select_option("#action_status", "completed")
    navy.fill("#done", "Curso de Operaciones de Paz con 12 mujeres")
    navy.locator("button[name=send]").click()
    entry_id = _entry_id(app)

    login(committee, committee_email)
    committee.goto(f"/dashboard?year={YEAR}&pillar=PAR")
    before = committee.locator(".measure-actions strong").first.inner_text()
    committee.goto(f"/entries/{entry_id}")
    committee.fill("#note", "Indique el número de participantes por sexo")
    committee.locator(f'form[action$="/entries/{entry_id}/return"] button').click()
    assert _entry_state(app) == EntryState.returned

    navy.goto(f"/plans/PE-2021/report/{YEAR}")
    assert "Indique el número de participantes por sexo" in navy.content()
    navy.locator('a[href$="/actions/PAR-1"]').click()
    navy.fill("#done", "Curso de Operaciones de Paz: 12 mujeres y 30 hombres")
    navy.locator("button[name=send]").click()
    assert _entry_state(app) == EntryState.submitted

    committee.goto(f"/entries/{entry_id}")
    committee.locator(f'form[action$="/entries/{entry_id}/approve"] button').click()
    assert _entry_state(app) == EntryState.approved
    committee.goto(f"/dashboard?year={YEAR}&pillar=PAR")
    after = committee.locator(".measure-actions strong").first.inner_text()
    assert (_digits(before), _digits(after)) == ("0", "33")
    shot(committee, "dashboard-es")


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _entry_id(app) -> int:
    with app.app_context():
        return db.session.scalars(sa.select(Entry.id)).one()


def test_budget_item_changes_compliance(app, make_user, new_page, open_cycle):
    _, navy_email = make_user(Role.reporter, institution="MGP")
    _, committee_email = make_user(Role.committee)
    navy, committee = new_page(), new_page()
    login(committee, committee_email)
    committee.goto(f"/plans/PE-2021/budget/{YEAR}/compliance")
    assert _digits(committee.locator("#compliance-share").inner_text()) == "0"
    login(navy, navy_email)
    navy.goto(f"/plans/PE-2021/budget/{YEAR}")
    navy.select_option("#stage", "included_pia")
    for field, value in {"#pliego": "026", "#unidad_ejecutora": "001", "#meta_presupuestal": "0012", "#pia": "150000", "#pim": "180000", "#devengado": "60000"}.items():
        navy.fill(field, value)
    navy.locator("button[name=send]").click()
    committee.goto(f"/entries/{_entry_id(app)}")
    committee.locator('form[action$="/approve"] button').click()
    committee.goto(f"/plans/PE-2021/budget/{YEAR}/compliance")
    share = committee.locator("#compliance-share").inner_text()
    assert _digits(share) != "0" and "S/&nbsp;180,000.00" in committee.content()
    shot(committee, "budget-compliance-es")


def test_switch_to_english(app, make_user, new_page, open_cycle):
    _, email = make_user(Role.viewer)
    page = new_page()
    login(page, email)
    assert page.locator("html").get_attribute("lang") == "es"
    page.locator('form[action$="/language/en"] button').click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto("/plans/PE-2021")
    assert "From Acceptance to Inclusion" in page.locator("h1").inner_text()
    assert "Country data" in page.content()
    shot(page, "plan-en")


def test_bad_input_keeps_values_and_large_upload_is_refused(app, make_user, new_page, open_cycle, tmp_path):
    app.config["MAX_UPLOAD_MB"] = 1
    try:
        _, email = make_user(Role.reporter, institution="MGP")
        page = new_page()
        login(page, email)
        page.goto(f"/plans/PE-2021/report/{YEAR}/indicators/IND-PAR-2")
        page.fill("#women", "-3")
        page.fill("#men", "10")
        page.fill("#narrative", "texto que no debe perderse")
        page.locator("button[name=save]").click()
        assert page.input_value("#women") == "-3" and page.input_value("#narrative") == "texto que no debe perderse"
        assert page.locator(".invalid-feedback").count() >= 1
        big = tmp_path / "grande.pdf"
        big.write_bytes(PDF + b"0" * (1024 * 1024 + 10))
        page.fill("#women", "3")
        page.set_input_files("#evidence", str(big))
        page.locator("button[name=save]").click()
        assert "grande.pdf" in page.content() and page.input_value("#women") == "3"
        shot(page, "entry-errors-es")
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Entry)) == 0
    finally:
        app.config["MAX_UPLOAD_MB"] = 10


def _navy_submits_deployment_figures(app, make_user, new_page) -> None:
    """The Navy submits its deployment figures for IND-PAR-2 (through the browser)."""
    _, navy_email = make_user(Role.reporter, institution="MGP")
    navy = new_page()
    login(navy, navy_email)
    navy.goto(f"/plans/PE-2021/report/{YEAR}/indicators/IND-PAR-2")
    navy.fill("#women", "26")
    navy.fill("#men", "179")
    navy.locator("button[name=send]").click()


def test_committee_downloads_the_report_as_pdf_and_excel(app, make_user, new_page, open_cycle, tmp_path):
    import io

    from openpyxl import load_workbook
    from pypdf import PdfReader

    _navy_submits_deployment_figures(app, make_user, new_page)
    _, committee_email = make_user(Role.committee)
    committee = new_page()
    login(committee, committee_email)
    committee.goto(f"/entries/{_entry_id(app)}")
    committee.locator('form[action$="/approve"] button').click()
    committee.goto(f"/reports?plan=PE-2021&year={YEAR}")
    shot(committee, "reports-es")
    choice = committee.locator("form.report-download").first
    choice.locator('select[name="fmt"]').select_option("pdf")
    choice.locator('select[name="lang"]').select_option("es")
    with committee.expect_download() as pdf_download:
        choice.get_by_role("button", name="Descargar").click()
    pdf = PdfReader(io.BytesIO(open(pdf_download.value.path(), "rb").read()))
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert "De la Aceptación a la Inclusión" in text and "IND-PAR-2" in text and "205" in text
    choice.locator('select[name="fmt"]').select_option("xlsx")
    choice.locator('select[name="lang"]').select_option("en")
    with committee.expect_download() as xlsx_download:
        choice.get_by_role("button", name="Descargar").click()
    workbook = load_workbook(io.BytesIO(open(xlsx_download.value.path(), "rb").read()))
    values = [cell for sheet in workbook.worksheets for r in sheet.iter_rows(values_only=True) for cell in r]
    assert 26 in values and 179 in values and 205 in values  # women, men and total of the approved entry
    assert "From Acceptance to Inclusion" in values  # the English report


def test_a_committee_member_turns_on_two_step_verification_and_logs_in_with_a_code(app, make_user, new_page, peru):
    """Enrol from the account page (the key is read off the page, as someone typing it into an app
    would), keep the recovery codes, then log in again: password, then the app's code."""
    import time

    import pyotp

    _, email = make_user(Role.committee)
    page = new_page()
    login(page, email)
    page.goto("/account")
    page.get_by_role("link", name="Verificación en dos pasos").click()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    shot(page, "two-factor-setup-es")
    totp = pyotp.TOTP(secret)
    enrolled_at = time.time()
    page.fill("#password", "Correct-Horse-Battery-Staple-42")
    page.fill("#code", totp.at(enrolled_at))
    page.locator("main form").get_by_role("button").click()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    shot(page, "two-factor-recovery-codes-es")
    page.locator("form[action='/logout'] button").click()

    login(page, email)
    assert page.url.endswith("/login/code")
    shot(page, "two-factor-login-code-es")
    # A code is accepted once: still in the enrolment's time step, the way in is a recovery code.
    now = time.time()
    page.fill("#code", totp.at(now) if int(now // 30) != int(enrolled_at // 30) else codes[0])
    page.locator("main form").get_by_role("button").click()
    page.wait_for_load_state()
    assert page.url.endswith("/dashboard")


def test_the_committee_alone_makes_the_plan_measurable(app, make_user, new_page, peru):
    """Issue 15's "done when": from the seeded plan, the committee alone, in the browser, confirms the derived
    indicators, sets a baseline and targets with a reason, opens a cycle and extends one institution's deadline;
    once the Navy's figure is approved the pillar card shows indicator achievement."""
    from datetime import date, timedelta

    from tracker.plan.models import Indicator, PlanChange

    _, committee_email = make_user(Role.committee)
    _, navy_email = make_user(Role.reporter, institution="MGP")
    committee = new_page()
    login(committee, committee_email)
    committee.goto("/plans/PE-2021")
    committee.locator("a.nav-link", has_text="Confirmaciones").click()
    boxes = committee.locator('input[name="items"]')
    assert boxes.count() == 7
    for i in range(boxes.count()):
        boxes.nth(i).check()
    committee.fill("#decided_on", date.today().isoformat())
    committee.fill("#reference", "Acta de la sesión 4/2026")
    shot(committee, "confirmations-es")
    committee.locator('button[name="confirm"]').click()
    committee.wait_for_load_state()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Indicator).where(Indicator.confirmed_on.is_not(None))) == 7

    committee.goto("/plans/PE-2021/indicators/IND-PAR-2")
    committee.get_by_role("link", name="Editar indicador y metas").click()
    committee.fill("#baseline_value", "20")
    committee.fill("#baseline_year", "2021")
    committee.fill(f"#target_{YEAR}", "40")
    committee.fill("#reason", "Acta de la sesión 4/2026: línea de base y metas aprobadas")
    shot(committee, "indicator-edit-es")
    committee.get_by_role("button", name="Guardar cambios").click()
    committee.wait_for_load_state()
    assert "Acta de la sesión 4/2026: línea de base y metas aprobadas" in committee.content()
    with app.app_context():
        fields = db.session.scalars(sa.select(PlanChange.field).filter_by(item_code="IND-PAR-2", channel="web"))
        assert sorted(fields) == ["baseline_value", "baseline_year", "confirmed"]

    committee.goto("/plans/PE-2021/cycles")
    committee.select_option("#year", str(YEAR))
    committee.fill("#deadline", (date.today() + timedelta(days=30)).isoformat())
    committee.get_by_role("button", name="Abrir ciclo de reporte").click()
    committee.wait_for_load_state()
    with app.app_context():
        cycle_id = db.session.scalar(sa.select(ReportingCycle.id).filter_by(year=YEAR))
    committee.select_option(f"#ext-institution-{cycle_id}", "MGP")
    committee.fill(f"#ext-deadline-{cycle_id}", (date.today() + timedelta(days=45)).isoformat())
    committee.fill(f"#ext-reason-{cycle_id}", "Cambio de jefatura en la Marina")
    committee.get_by_role("button", name="Ampliar el plazo").click()
    committee.wait_for_load_state()
    with app.app_context():
        assert db.session.scalar(sa.select(DeadlineException.deadline)) == date.today() + timedelta(days=45)

    navy = new_page()
    login(navy, navy_email)
    navy.goto(f"/plans/PE-2021/report/{YEAR}/indicators/IND-PAR-2")
    navy.fill("#women", "6")
    navy.fill("#men", "24")
    navy.locator("button[name=send]").click()
    navy.wait_for_load_state()
    committee.goto(f"/entries/{_entry_id(app)}")
    committee.locator('form[action$="/approve"] button').click()
    committee.wait_for_load_state()

    committee.goto(f"/dashboard?year={YEAR}")
    card = committee.locator(".measure-indicators").first
    assert "logro promedio" in card.inner_text()
    shot(committee, "dashboard-with-targets-es")


@pytest.mark.parametrize("locale", ["es-PE", "en-GB"])
def test_the_committees_menu_fits_a_1280_pixel_window(app, make_user, new_page, open_cycle, locale):
    """The committee has the longest menu (review queue and notifications with their counts, plan management with
    its count): on one line, no sideways scrolling."""
    from tracker.auth.models import User
    from tracker.plan.models import Indicator, Institution
    from tracker.progress import services

    _, email = make_user(Role.committee, name="María Fernanda Quispe Huamán")
    _, navy = make_user(Role.reporter, institution="MGP")
    with app.test_request_context():
        cycle = db.session.scalars(sa.select(ReportingCycle)).one()
        services.save_entry(db.session, db.session.scalars(sa.select(User).filter_by(email=navy)).one(), cycle,
                            db.session.scalars(sa.select(Institution).filter_by(code="MGP")).one(),
                            db.session.scalars(sa.select(Indicator).filter_by(code="IND-PAR-2")).one(),
                            services.IndicatorInput(women=3, men=9), submit=True)
        db.session.commit()
    page = new_page(locale=locale)
    login(page, email)
    page.goto("/plans/PE-2021")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280


def test_an_institution_signs_off_before_the_committee_decides(app, make_user, new_page, open_cycle):
    """Issue 16's sign-off end to end: the committee asks the Navy for a sign-off; the Navy's reporter submits, its
    focal point endorses from the list of what waits for it, and the committee approves; every step names who."""
    _, committee_email = make_user(Role.committee, name="Comité Revisor")
    _, reporter_email = make_user(Role.reporter, email="ana@marina.example", institution="MGP", name="Ana Reportera")
    _, focal_email = make_user(Role.reporter, email="jefa@marina.example", institution="MGP", name="Jefa Visadora",
                               focal_point=True)
    committee = new_page()
    login(committee, committee_email)
    committee.goto("/plans/PE-2021")
    committee.locator("#plan-management").click()
    committee.get_by_role("link", name="Visado institucional").click()
    committee.check("#signoff-MGP")
    committee.fill("#reason", "Acta 4-2026: la Marina visa sus registros")
    shot(committee, "signoff-settings-es")
    committee.get_by_role("button", name="Guardar el visado").click()
    committee.wait_for_load_state()
    assert committee.is_checked("#signoff-MGP")

    reporter = new_page()
    login(reporter, reporter_email)
    reporter.goto(f"/plans/PE-2021/report/{YEAR}")
    reporter.locator('a[href$="/actions/PAR-1"]').click()
    reporter.select_option("#action_status", "in_progress")
    reporter.fill("#done", "Talleres en Callao")
    reporter.locator("button[name=send]").click()
    reporter.wait_for_load_state()
    assert _entry_state(app) == EntryState.awaiting_signoff

    focal = new_page()
    login(focal, focal_email)
    focal.get_by_role("link", name="Por visar").click()
    focal.get_by_role("link", name="PAR-1").click()
    shot(focal, "signoff-entry-es")
    focal.get_by_role("button", name="Dar visto bueno y enviar", exact=True).click()
    focal.wait_for_load_state()
    assert _entry_state(app) == EntryState.submitted

    committee.goto("/review")
    committee.get_by_role("link", name="PAR-1").first.click()
    assert "visado por el punto focal Jefa Visadora" in committee.content()
    committee.get_by_role("button", name="Validar").first.click()
    committee.wait_for_load_state()
    assert _entry_state(app) == EntryState.approved
    page = committee.content()
    assert "Enviado por Ana Reportera" in page and "decidido por Comité Revisor" in page
