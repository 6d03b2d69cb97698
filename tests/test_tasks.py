"""Background tasks (issue 18): the final report, and imports and templates beyond TRACKER_BACKGROUND_ROWS rows, are
done by a task whose page shows a progress bar (a script follows it; without JavaScript the page refreshes itself)
and then the outcome. Without a queue the task has run by the time its page opens; with one, a real RQ worker runs
it. A task runs once: a finished task is never run again, one a dead worker left half done is run again."""

from __future__ import annotations

import io

import openpyxl
import pytest
import sqlalchemy as sa
from test_bulk_import import IMPORT, _fill, _token, _upload, _xlsx
from test_progress import BASE, YEAR, _entry, committee, cycle, navy  # noqa: F401 - fixtures
from test_reports import URL, _validate

from conftest import page_text
from tracker import jobs, storage
from tracker.auth.models import Role, User
from tracker.db import db
from tracker.progress.models import EntryKind, EntryState
from tracker.reports.models import FinalReport
from tracker.tasks import services as tasks
from tracker.tasks.models import Task, TaskState

EN = {"Accept-Language": "en"}


@pytest.fixture(autouse=True)
def _english(app):
    with app.app_context():
        db.session.execute(sa.update(User).values(language="en"))
        db.session.commit()


def _finalize(committee):
    _validate(committee)
    response = committee.post_form(f"{URL}/finalize", token_from="/reports")
    assert response.status_code == 302 and "/tasks/" in response.location, response.location
    return int(response.location.rsplit("/", 1)[1])


def _task(app, task_id: int) -> Task:
    with app.app_context():
        task = db.session.get(Task, task_id)
        db.session.expunge(task)
        return task


def _finals(app) -> list[tuple[str, str, int]]:
    with app.app_context():
        return sorted((f.language, f.format, f.version) for f in db.session.scalars(sa.select(FinalReport)))


def test_without_a_queue_the_final_report_is_ready_when_its_page_opens(app, committee):
    task_id = _finalize(committee)
    page = committee.get(f"/tasks/{task_id}", headers=EN)
    text = page_text(page)
    assert page.status_code == 200 and f"The report for {YEAR} is final (version 1)." in text
    assert "<progress" not in page.get_data(as_text=True) and "Back to the reports" in text
    assert len(_finals(app)) == 10
    task = _task(app, task_id)
    assert (task.state, task.runs, task.done, task.total) == (TaskState.done, 1, 10, 10)


def test_a_worker_makes_the_final_report_while_the_page_follows_it(app, committee, queue):
    task_id = _finalize(committee)
    page = committee.get(f"/tasks/{task_id}", headers=EN).get_data(as_text=True)
    assert "<progress" in page and 'http-equiv="refresh"' in page and "js/task.js" in page  # with and without JS
    assert committee.get(f"/tasks/{task_id}.json").get_json() == {"state": "queued", "done": 0, "total": 0,
                                                                  "percent": 0, "finished": False}
    assert _finals(app) == []
    with app.app_context():
        jobs.work(burst=True)
    status = committee.get(f"/tasks/{task_id}.json").get_json()
    assert status["finished"] and status["state"] == "done" and status["percent"] == 100
    done = committee.get(f"/tasks/{task_id}", headers=EN).get_data(as_text=True)
    assert "is final (version 1)" in done and 'http-equiv="refresh"' not in done
    assert {v for _l, _f, v in _finals(app)} == {1} and len(_finals(app)) == 10
    task = _task(app, task_id)
    assert (task.done, task.total, task.runs) == (10, 10, 1)


def test_a_task_is_run_once_and_again_only_when_a_worker_died_in_it(app, committee):
    task_id = _finalize(committee)
    with app.app_context():
        tasks.run_task(db.session, task_id)  # the queue handed it out again after it finished: nothing happens
        db.session.commit()
    assert len(_finals(app)) == 10 and _task(app, task_id).runs == 1
    with app.app_context():  # a task a killed worker left running (its work never committed)
        task = db.session.get(Task, task_id)
        task.state = TaskState.running
        db.session.execute(sa.delete(FinalReport))
        db.session.commit()
        tasks.run_task(db.session, task_id)
    task = _task(app, task_id)
    assert (task.state, task.runs) == (TaskState.done, 2) and {v for _l, _f, v in _finals(app)} == {2}


def test_a_task_that_cannot_be_done_says_why_and_keeps_nothing(app, committee, queue):
    task_id = _finalize(committee)
    with app.app_context():
        db.session.execute(sa.update(User).where(User.role == Role.committee).values(role=Role.viewer, language="en"))
        db.session.commit()
        jobs.work(burst=True)
    task = _task(app, task_id)
    assert task.state == TaskState.failed and "no longer mark reports final" in task.error and _finals(app) == []


def test_only_who_started_a_task_sees_it(app, committee, login_as):
    task_id = _finalize(committee)
    for role in (Role.committee, Role.admin, Role.viewer):
        other = login_as(role, email=f"other-{role.value}@example.org")
        for url in (f"/tasks/{task_id}", f"/tasks/{task_id}.json", f"/tasks/{task_id}/file"):
            assert other.get(url).status_code == 404
    assert committee.get("/tasks/999999").status_code == 404


def test_a_large_template_is_made_in_the_background_and_offered_on_its_page(app, navy, monkeypatch):
    monkeypatch.setitem(app.config, "BACKGROUND_ROWS", 3)  # the Navy has nine items
    response = navy.get(f"{BASE}/template.xlsx")
    assert response.status_code == 302 and "/tasks/" in response.location
    page = navy.get(response.location, headers=EN)
    assert "The template is ready." in page_text(page)
    file = navy.get(f"{response.location}/file")
    assert file.status_code == 200 and file.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = openpyxl.load_workbook(io.BytesIO(file.data))
    assert "IND-PAR-1" in [c.value for c in next(iter(workbook.worksheets[1].columns))]


def test_a_large_import_runs_in_the_background_and_removes_its_upload(app, navy, monkeypatch, queue):
    workbook = openpyxl.load_workbook(io.BytesIO(navy.get(f"{BASE}/template.xlsx").data))
    for code, women in (("IND-PAR-1", 3), ("IND-PAR-2", 4)):
        _fill(workbook, EntryKind.indicator, code, women=women, men=10)
    monkeypatch.setitem(app.config, "BACKGROUND_ROWS", 1)
    token = _token(_upload(navy, _xlsx(workbook)).get_data(as_text=True))
    response = navy.post_form(f"{IMPORT}/{token}", token_from=IMPORT)
    assert response.status_code == 302 and "/tasks/" in response.location
    assert _entry(app, "IND-PAR-1", "MGP") is None  # on the queue, not done by the request
    with app.app_context():
        jobs.work(burst=True)
    text = page_text(navy.get(response.location, headers=EN))
    assert "2 rows imported as drafts." in text and "Back to the worklist" in text
    assert _entry(app, "IND-PAR-1", "MGP").state == EntryState.draft and _entry(app, "IND-PAR-1", "MGP").women == 3
    with app.app_context():
        assert not storage.store().exists(f"imports/{token}")
    assert navy.post_form(f"{IMPORT}/{token}", token_from=IMPORT).status_code == 404  # not a second time
