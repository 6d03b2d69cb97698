"""The conversation on an entry (issue 16): the institution and the monitoring body write to each other on the
entry's page; comments are never edited (a correction is a new comment), may be marked resolved, notify the
other side, and the committee's return notes appear in the thread."""

from __future__ import annotations


import pytest
import sqlalchemy as sa

from conftest import logged_in, page_text
from tracker.auth.models import Role
from tracker.db import db
from tracker.progress.models import Entry, EntryComment, Notification, OutboxMessage
from tracker.review import steps

EN = {"Accept-Language": "en"}




def _notified(app, email: str) -> list[Notification]:
    from tracker.auth.models import User

    with app.app_context():
        user = db.session.scalars(sa.select(User).filter_by(email=email)).one()
        rows = list(db.session.scalars(sa.select(Notification).filter_by(user_id=user.id, event="comment")))
        db.session.expunge_all()
        return rows


def test_the_committee_asks_and_the_institution_answers(app, review_world):
    url = f"/entries/{review_world['entry']}"
    committee, navy = logged_in(app, review_world["committee"]), logged_in(app, review_world["navy"])
    assert committee.post_form(f"{url}/comments", {"body": "¿De dónde sale el salto de 80 a 140?"}, token_from=url).status_code == 302
    assert [n.note for n in _notified(app, review_world["navy"])] == ["¿De dónde sale el salto de 80 a 140?"]
    assert navy.post_form(f"{url}/comments", {"body": "Se sumó el curso de Lima."}, token_from=url).status_code == 302
    assert [n.note for n in _notified(app, review_world["committee"])] == ["Se sumó el curso de Lima."]
    with app.app_context():
        mails = [m.subject for m in db.session.scalars(sa.select(OutboxMessage))]
    assert any("IND-PAR-1" in subject for subject in mails)
    page = page_text(navy.get(url, headers=EN))
    assert page.index("¿De dónde sale el salto de 80 a 140?") < page.index("Se sumó el curso de Lima.")


def test_a_correction_is_a_new_comment_and_the_first_stays_as_written(app, review_world):
    url = f"/entries/{review_world['entry']}"
    navy = logged_in(app, review_world["navy"])
    navy.post_form(f"{url}/comments", {"body": "Fueron 104 hombres."}, token_from=url)
    with app.app_context():
        first = db.session.scalars(sa.select(EntryComment)).one().id
    navy.post_form(f"{url}/comments", {"body": "Corrijo: fueron 100.", "corrects": str(first)}, token_from=url)
    with app.app_context():
        rows = list(db.session.scalars(sa.select(EntryComment).order_by(EntryComment.id)))
        assert [(r.body, r.corrects_id) for r in rows] == [("Fueron 104 hombres.", None), ("Corrijo: fueron 100.", first)]
    assert "correction of #" in page_text(navy.get(url, headers=EN))


def test_a_comment_is_marked_resolved_once(app, review_world):
    url = f"/entries/{review_world['entry']}"
    committee = logged_in(app, review_world["committee"])
    committee.post_form(f"{url}/comments", {"body": "Falta el acta."}, token_from=url)
    with app.app_context():
        comment = db.session.scalars(sa.select(EntryComment)).one().id
    navy = logged_in(app, review_world["navy"])
    assert navy.post_form(f"{url}/comments/{comment}/resolve", token_from=url).status_code == 302
    with app.app_context():
        row = db.session.get(EntryComment, comment)
        assert row.resolved_at is not None and row.resolved_by_name
    navy.post_form(f"{url}/comments/{comment}/resolve", token_from=url, headers=EN)  # the message is worded in English
    assert "This comment was already marked resolved." in page_text(navy.get(url, headers=EN))


def test_return_notes_appear_in_the_thread(app, review_world):
    from tracker.auth.models import User

    with app.test_request_context():
        entry = db.session.get(Entry, review_world["entry"])
        steps.take_step(db.session, db.session.scalars(sa.select(User).filter_by(email=review_world["committee"])).one(),
                        entry, "return", "Adjunte las actas del curso")
        db.session.commit()
    page = page_text(logged_in(app, review_world["navy"]).get(f"/entries/{review_world['entry']}", headers=EN))
    conversation = page[page.index("Conversation"):page.index("History")]
    assert "Return note" in conversation and "Adjunte las actas del curso" in conversation


def test_an_empty_comment_comes_back_with_its_error(app, review_world):
    url = f"/entries/{review_world['entry']}"
    response = logged_in(app, review_world["navy"]).post_form(f"{url}/comments", {"body": "  "}, token_from=url, headers=EN)
    assert response.status_code == 400 and "Write the comment." in page_text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EntryComment)) == 0


@pytest.mark.parametrize("role", [Role.viewer, Role.admin])
def test_others_do_not_take_part(app, review_world, login_as, role):
    client = login_as(role)
    url = f"/entries/{review_world['entry']}"
    assert client.post_form(f"{url}/comments", {"body": "Hola"}, token_from="/account/password").status_code in (403, 404)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EntryComment)) == 0
