"""Progress reporting by institutions and review by the committee: the workflow end to end."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from conftest import Client
from tracker.auth.models import Role
from tracker.db import db
from tracker.plan import models as pm
from tracker.progress import services
from tracker.progress.models import (
    CycleState,
    Entry,
    EntryState,
    EntryVersion,
    Evidence,
    Notification,
    OutboxMessage,
    ReportingCycle,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
YEAR = 2025
BASE = f"/plans/PE-2021/report/{YEAR}"


def _lima_today() -> date:
    """Today in Peru: the plan's days left are counted there, whatever the server's zone."""
    return datetime.now(ZoneInfo("America/Lima")).date()


@pytest.fixture
def cycle(app, peru):
    with app.app_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        row = ReportingCycle(plan_id=plan.id, year=YEAR, deadline=_lima_today() + timedelta(days=30), state=CycleState.open)
        db.session.add(row)
        db.session.commit()
        return row.id


@pytest.fixture
def navy(login_as, cycle) -> Client:
    return login_as(Role.reporter, institution="MGP")


@pytest.fixture
def committee(login_as, cycle) -> Client:
    return login_as(Role.committee)


def _entry(app, code: str, institution: str = "MGP") -> Entry | None:
    with app.app_context():
        return db.session.scalars(
            sa.select(Entry)
            .join(pm.Institution, pm.Institution.id == Entry.institution_id)
            .outerjoin(pm.Indicator, pm.Indicator.id == Entry.indicator_id)
            .outerjoin(pm.Action, pm.Action.id == Entry.action_id)
            .where(pm.Institution.code == institution, sa.or_(pm.Indicator.code == code, pm.Action.code == code))
        ).one_or_none()


def _save(client: Client, code: str, data: dict, send: bool = False, kind: str = "indicators", files=None):
    url = f"{BASE}/{kind}/{code}"
    payload = {**data, ("send" if send else "save"): "1"}
    if files:
        payload["evidence"] = files
    return client.post_form(url, payload, content_type="multipart/form-data")


def test_worklist_lists_what_the_institution_reports_on(navy):
    page = navy.get(BASE).get_data(as_text=True)
    for code in ("IND-OE1-1", "IND-PAR-1", "IND-PAR-2", "PAR-1", "PAR-3", "REC-4"):
        assert code in page
    assert "REC-1" not in page  # the Navy is not responsible for REC-1
    assert "30 días restantes" in page or "30 days left" in page


def test_save_draft_keeps_a_version(app, navy):
    response = _save(navy, "IND-PAR-2", {"women": "5", "men": "20", "narrative": "Despliegue MINUSCA"})
    assert response.status_code == 302
    entry = _entry(app, "IND-PAR-2")
    assert (entry.state, entry.women, entry.men, entry.value, entry.version) == (EntryState.draft, 5, 20, 25, 1)
    with app.app_context():
        versions = db.session.scalars(sa.select(EntryVersion).filter_by(entry_id=entry.id)).all()
    assert [(v.number, v.event) for v in versions] == [(1, "created")]
    assert versions[0].values["women"] == 5


def test_submit_requires_the_sex_split_and_keeps_input(app, navy):
    response = _save(navy, "IND-PAR-2", {"women": "7", "narrative": "Texto del usuario"}, send=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Texto del usuario" in page and 'value="7"' in page
    assert "indique las cifras de mujeres y de hombres" in page
    assert _entry(app, "IND-PAR-2") is None  # nothing half-saved


@pytest.mark.parametrize(
    ("data", "field_value"),
    [({"women": "-1", "men": "3"}, 'value="-1"'), ({"women": "2", "men": "-4"}, 'value="-4"')],
)
def test_negative_counts_are_refused(app, navy, data, field_value):
    response = _save(navy, "IND-PAR-2", data)
    assert response.status_code == 400
    assert field_value in response.get_data(as_text=True)
    assert _entry(app, "IND-PAR-2") is None


def test_numerator_above_denominator_is_refused(app, navy):
    response = _save(navy, "IND-REC-4", {"numerator": "5", "denominator": "4"})
    assert response.status_code == 400
    assert _entry(app, "IND-REC-4") is None


def test_percentage_is_derived(app, navy):
    assert _save(navy, "IND-REC-4", {"numerator": "1", "denominator": "4"}).status_code == 302
    assert _entry(app, "IND-REC-4").value == 25


def test_closed_cycle_refuses_entries(app, navy, cycle):
    with app.app_context():
        db.session.get(ReportingCycle, cycle).state = CycleState.closed
        db.session.commit()
    response = _save(navy, "IND-PAR-2", {"women": "1", "men": "1"})
    assert response.status_code == 400
    assert "2025" in response.get_data(as_text=True)
    assert _entry(app, "IND-PAR-2") is None


def test_submit_then_withdraw(app, navy):
    assert _save(navy, "PAR-1", {"action_status": "in_progress", "done": "Cursos"}, send=True, kind="actions").status_code == 302
    entry = _entry(app, "PAR-1")
    assert entry.state == EntryState.submitted
    assert navy.post_form(f"/entries/{entry.id}/withdraw", token_from=f"/entries/{entry.id}").status_code == 302
    assert _entry(app, "PAR-1").state == EntryState.draft


def test_return_fix_resubmit_approve_lock(app, navy, committee):
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"}, send=True)
    entry_id = _entry(app, "IND-PAR-2").id
    page = f"/entries/{entry_id}"
    # A note is required to return.
    committee.post_form(f"{page}/return", {"note": ""}, token_from=page)
    assert _entry(app, "IND-PAR-2").state == EntryState.submitted
    committee.post_form(f"{page}/return", {"note": "Falta el sustento"}, token_from=page)
    entry = _entry(app, "IND-PAR-2")
    assert (entry.state, entry.review_note) == (EntryState.returned, "Falta el sustento")
    assert "Falta el sustento" in navy.get(BASE).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(sa.select(Notification).filter_by(event="return")).one().note == "Falta el sustento"
        mail = db.session.scalars(sa.select(OutboxMessage)).one()
        assert mail.sent_at is not None and "IND-PAR-2" in mail.subject
    # Fix and resubmit; approve.
    _save(navy, "IND-PAR-2", {"women": "6", "men": "20", "version": str(entry.version)}, send=True)
    assert _entry(app, "IND-PAR-2").state == EntryState.submitted
    committee.post_form(f"{page}/approve", token_from=page)
    entry = _entry(app, "IND-PAR-2")
    assert (entry.state, entry.women) == (EntryState.approved, 6)
    # Locked: the form redirects to the read-only page and a direct post is refused.
    assert navy.get(f"{BASE}/indicators/IND-PAR-2").status_code == 302
    response = navy.post_form(f"{BASE}/indicators/IND-PAR-2", {"women": "99", "men": "1", "save": "1"}, token_from=BASE)
    assert response.status_code == 302
    assert _entry(app, "IND-PAR-2").women == 6
    # Reopen needs a reason and goes back to the institution.
    committee.post_form(f"{page}/reopen", {"reason": "Cifra corregida por la Marina"}, token_from=page)
    assert _entry(app, "IND-PAR-2").state == EntryState.returned
    with app.app_context():
        events = [v.event for v in db.session.scalars(sa.select(EntryVersion).filter_by(entry_id=entry_id).order_by(EntryVersion.number))]
    assert events == ["created", "submit", "return", "saved", "submit", "approve", "reopen"]


def test_history_page_shows_versions_and_notes(app, navy, committee):
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"}, send=True)
    entry_id = _entry(app, "IND-PAR-2").id
    committee.post_form(f"/entries/{entry_id}/return", {"note": "Adjuntar evidencia"}, token_from=f"/entries/{entry_id}")
    page = navy.get(f"/entries/{entry_id}").get_data(as_text=True)
    assert "Adjuntar evidencia" in page and "Versión 3" in page or "Version 3" in page


def test_concurrent_edit_is_detected(app, navy, login_as):
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"})
    other = login_as(Role.reporter, email="second@example.org", institution="MGP")
    _save(other, "IND-PAR-2", {"women": "8", "men": "20", "version": "1"})
    response = _save(navy, "IND-PAR-2", {"women": "9", "men": "21", "narrative": "mi versión", "version": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert 'value="9"' in page and "mi versión" in page  # the second person's input is kept
    assert "«5» → «8»" in page  # what changed meanwhile
    assert _entry(app, "IND-PAR-2").women == 8
    # Saving again from the refreshed form (now at version 2) goes through.
    assert _save(navy, "IND-PAR-2", {"women": "9", "men": "21", "version": "2"}).status_code == 302
    assert _entry(app, "IND-PAR-2").women == 9


def test_other_institutions_never_see_drafts(app, navy, login_as):
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"})
    entry_id = _entry(app, "IND-PAR-2").id
    army = login_as(Role.reporter, institution="EP")
    viewer = login_as(Role.viewer)
    assert army.get(f"/entries/{entry_id}").status_code == 404
    assert viewer.get(f"/entries/{entry_id}").status_code == 404
    token = army.csrf_token(f"{BASE}")
    assert army.post(f"/entries/{entry_id}/submit", data={"csrf_token": token}).status_code == 404
    assert _entry(app, "IND-PAR-2").state == EntryState.draft


def test_approved_entries_are_visible_to_all(app, navy, committee, login_as):
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"}, send=True)
    entry_id = _entry(app, "IND-PAR-2").id
    committee.post_form(f"/entries/{entry_id}/approve", token_from=f"/entries/{entry_id}")
    viewer = login_as(Role.viewer)
    assert viewer.get(f"/entries/{entry_id}").status_code == 200


def test_reporter_cannot_approve_own_entry(app, navy):
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"}, send=True)
    entry_id = _entry(app, "IND-PAR-2").id
    assert navy.post_form(f"/entries/{entry_id}/approve", token_from=f"/entries/{entry_id}").status_code == 403
    assert _entry(app, "IND-PAR-2").state == EntryState.submitted


def test_bulk_review(app, navy, committee):
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"}, send=True)
    _save(navy, "PAR-1", {"action_status": "completed"}, send=True, kind="actions")
    ids = [_entry(app, "IND-PAR-2").id, _entry(app, "PAR-1").id]
    page = committee.get("/review").get_data(as_text=True)
    assert "IND-PAR-2" in page and "PAR-1" in page
    token = committee.csrf_token("/review")
    committee.post("/review", data={"csrf_token": token, "decision": "return", "note": "", "entry_ids": ids})
    assert _entry(app, "PAR-1").state == EntryState.submitted  # a note is required to return
    committee.post("/review", data={"csrf_token": token, "decision": "approve", "entry_ids": ids})
    assert {_entry(app, "IND-PAR-2").state, _entry(app, "PAR-1").state} == {EntryState.approved}


def test_only_approved_values_count(app, navy, committee):
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"}, send=True)
    _save(navy, "IND-PAR-1", {"women": "3", "men": "4"})
    entry_id = _entry(app, "IND-PAR-2").id
    with app.app_context():
        plan_id = db.session.scalars(sa.select(pm.Plan.id)).one()
        assert services.approved_entries(db.session, plan_id, YEAR) == []
    committee.post_form(f"/entries/{entry_id}/approve", token_from=f"/entries/{entry_id}")
    with app.app_context():
        assert [e.id for e in services.approved_entries(db.session, plan_id, YEAR)] == [entry_id]


# -- evidence -----------------------------------------------------------------------------------


def test_evidence_upload_and_download(app, navy, login_as):
    files = [(io.BytesIO(PDF), "../../informe final.pdf")]
    assert _save(navy, "IND-PAR-2", {"women": "1", "men": "1"}, files=files).status_code == 302
    entry = _entry(app, "IND-PAR-2")
    with app.app_context():
        evidence = db.session.scalars(sa.select(Evidence)).one()
        stored = app.config["UPLOAD_FOLDER"] / evidence.stored_name
    assert evidence.original_name == "informe_final.pdf" and evidence.content_type == "application/pdf"
    assert stored.read_bytes() == PDF and "static" not in str(stored)
    download = navy.get(f"/entries/{entry.id}/evidence/{evidence.id}")
    assert download.status_code == 200 and download.data == PDF
    army = login_as(Role.reporter, institution="EP")
    assert army.get(f"/entries/{entry.id}/evidence/{evidence.id}").status_code == 404


def test_disguised_upload_is_refused(app, navy):
    files = [(io.BytesIO(b"MZ\x90\x00 this is a program"), "informe.pdf")]
    response = _save(navy, "IND-PAR-2", {"women": "1", "men": "1", "narrative": "guardar"}, files=files)
    assert response.status_code == 400
    assert "guardar" in response.get_data(as_text=True)
    assert _entry(app, "IND-PAR-2") is None


def test_oversized_upload_is_refused(app, navy):
    big = PDF + b"0" * (app.config["MAX_UPLOAD_MB"] * 1024 * 1024)
    response = _save(navy, "IND-PAR-2", {"women": "1", "men": "1"}, files=[(io.BytesIO(big), "grande.pdf")])
    assert response.status_code == 400
    assert "grande.pdf" in response.get_data(as_text=True)
    assert _entry(app, "IND-PAR-2") is None


# -- cycles -------------------------------------------------------------------------------------


def test_committee_opens_closes_and_reopens_cycles(app, committee):
    url = "/plans/PE-2021/cycles"
    assert committee.post_form(url, {"year": "2026", "deadline": "2027-03-31"}).status_code == 302
    duplicate = committee.post_form(url, {"year": "2026", "deadline": "2027-03-31"})
    assert duplicate.status_code == 200 and "2026" in duplicate.get_data(as_text=True)
    with app.app_context():
        cycle = db.session.scalars(sa.select(ReportingCycle).filter_by(year=2026)).one()
    committee.post_form(f"/cycles/{cycle.id}/close", token_from=url)
    committee.post_form(f"/cycles/{cycle.id}/reopen", {"reason": ""}, token_from=url)
    with app.app_context():
        assert db.session.get(ReportingCycle, cycle.id).state == CycleState.closed
    committee.post_form(f"/cycles/{cycle.id}/reopen", {"reason": "Prórroga acordada"}, token_from=url)
    with app.app_context():
        reopened = db.session.get(ReportingCycle, cycle.id)
        assert (reopened.state, reopened.reopen_reason) == (CycleState.open, "Prórroga acordada")


def test_reporters_cannot_open_cycles(app, navy):
    response = navy.post_form("/plans/PE-2021/cycles", {"year": "2030", "deadline": "2031-01-31"})
    assert response.status_code == 403


def test_two_first_saves_of_a_new_entry_conflict(app, navy, login_as):
    """Both opened the empty form: the second save must not silently replace the first."""
    other = login_as(Role.reporter, email="second@example.org", institution="MGP")
    assert _save(navy, "PAR-1", {"action_status": "in_progress", "done": "texto A"}, kind="actions").status_code == 302
    response = _save(other, "PAR-1", {"action_status": "delayed", "done": "texto B"}, kind="actions")
    assert response.status_code == 409 and "texto B" in response.get_data(as_text=True)
    assert _entry(app, "PAR-1").done == "texto A"


def test_history_of_drafts_is_hidden_from_other_institutions(app, navy, committee, login_as):
    _save(navy, "PAR-1", {"action_status": "in_progress", "done": "BORRADOR SECRETO"}, send=True, kind="actions")
    entry = _entry(app, "PAR-1")
    committee.post_form(f"/entries/{entry.id}/return", {"note": "nota interna"}, token_from=f"/entries/{entry.id}")
    _save(navy, "PAR-1", {"action_status": "completed", "done": "texto final", "version": str(_entry(app, "PAR-1").version)}, send=True, kind="actions")
    committee.post_form(f"/entries/{entry.id}/approve", token_from=f"/entries/{entry.id}")
    army = login_as(Role.reporter, institution="EP")
    page = army.get(f"/entries/{entry.id}").get_data(as_text=True)
    assert "texto final" in page
    assert "BORRADOR SECRETO" not in page and "nota interna" not in page
    assert "BORRADOR SECRETO" in navy.get(f"/entries/{entry.id}").get_data(as_text=True)


def test_huge_numbers_are_refused_not_crashing(app, navy):
    response = _save(navy, "IND-PAR-2", {"women": str(10**20), "men": "1"})
    assert response.status_code == 400
    assert _entry(app, "IND-PAR-2") is None


def test_history_values_are_labelled_in_the_users_language(app, navy):
    _save(navy, "PAR-1", {"action_status": "delayed", "done": "x"}, kind="actions")
    page = navy.get(f"/entries/{_entry(app, 'PAR-1').id}", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Estado: Retrasada" in page and "action_status" not in page


def test_approving_a_version_the_committee_did_not_see_is_refused(app, navy, committee):
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"}, send=True)
    entry = _entry(app, "IND-PAR-2")
    seen = entry.version
    navy.post_form(f"/entries/{entry.id}/withdraw", token_from=f"/entries/{entry.id}")
    _save(navy, "IND-PAR-2", {"women": "50", "men": "20", "version": str(_entry(app, "IND-PAR-2").version)}, send=True)
    committee.post_form(f"/entries/{entry.id}/approve", {"version": str(seen)}, token_from=f"/entries/{entry.id}")
    assert _entry(app, "IND-PAR-2").state == EntryState.submitted  # not approved blindly
    committee.post_form(f"/entries/{entry.id}/approve", {"version": str(_entry(app, "IND-PAR-2").version)}, token_from=f"/entries/{entry.id}")
    assert _entry(app, "IND-PAR-2").state == EntryState.approved


def test_bulk_review_refuses_entries_changed_since_listed(app, navy, committee):
    _save(navy, "PAR-1", {"action_status": "completed"}, send=True, kind="actions")
    entry = _entry(app, "PAR-1")
    listed = entry.version
    navy.post_form(f"/entries/{entry.id}/withdraw", token_from=f"/entries/{entry.id}")
    _save(navy, "PAR-1", {"action_status": "delayed", "version": str(_entry(app, "PAR-1").version)}, send=True, kind="actions")
    token = committee.csrf_token("/review")
    committee.post("/review", data={"csrf_token": token, "decision": "approve", "entry_ids": [entry.id], f"seen-{entry.id}": listed})
    assert _entry(app, "PAR-1").state == EntryState.submitted
