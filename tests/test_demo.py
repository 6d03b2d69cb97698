"""`tracker demo purge` and the production guard against demo data (issue 12, go-live)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from config import ConfigError
from conftest import Client
from tracker import audit
from tracker import storage
from tracker.auth.models import Role, User
from tracker.db import db
from tracker.demo import Size, demo_leftovers, generate, refuse_demo_data_in_production
from tracker.demo_cli import DEMO_ACCOUNTS, DEMO_PASSWORD
from tracker.plan import models as pm
from tracker.progress import services as progress
from tracker.progress import uploads
from tracker.progress.models import Entry, EntryKind, EntryState, EntryVersion, Evidence, Notification, OutboxMessage, ReportingCycle

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DEMO_EMAILS = [email for email, *_ in DEMO_ACCOUNTS]
TINY = Size(plans=1, institutions=2, actions_per_pillar=1, indicators_per_action=1, years=2)


@dataclass
class World:
    """Demo accounts and entries (as `make run` leaves them) beside real data in the same plan and cycle."""

    real_user: int
    real_entry: int
    cycle_2023: int
    demo_evidence: Path
    real_evidence: Path


def _one(model, **filters):
    return db.session.scalars(sa.select(model).filter_by(**filters)).one()


def _store_pdf(session, user, entry) -> Path:
    """Evidence through the upload path the entry form uses: the file is on disk."""
    files = uploads.check_uploads([FileStorage(io.BytesIO(PDF), filename="informe.pdf", content_type="application/pdf")])
    (evidence,) = uploads.store_evidence(session, user, entry, files)
    return storage.store().path(uploads.evidence_key(evidence))


@pytest.fixture
def world(app, cli, peru, make_user) -> World:
    assert cli("demo", "accounts").exit_code == 0
    assert cli("demo", "entries").exit_code == 0
    real_user, _ = make_user(Role.reporter, institution="EP")
    with app.test_request_context():
        session = db.session
        plan, army = _one(pm.Plan, code="PE-2021"), _one(pm.Institution, code="EP")
        cycle = _one(ReportingCycle, plan_id=plan.id, year=2023)
        marina, comite = _one(User, email="marina@demo.example.org"), _one(User, email="comite@demo.example.org")
        real = Entry(cycle_id=cycle.id, institution_id=army.id, kind=EntryKind.action, state=EntryState.draft, version=1,
                     action_id=_one(pm.Action, plan_id=plan.id, code="PAR-1").id, done="Real report", reviewed_by_id=comite.id)
        session.add(real)
        session.flush()
        progress.record_version(session, real, "saved", session.get(User, real_user))
        demo_entry = session.scalars(sa.select(Entry).filter_by(cycle_id=cycle.id, is_demo=True).order_by(Entry.id)).first()
        demo_evidence, real_evidence = _store_pdf(session, marina, demo_entry), _store_pdf(session, marina, real)
        session.add_all([
            Notification(user_id=real_user, event="approved", entry_id=demo_entry.id),
            Notification(user_id=marina.id, event="returned", entry_id=real.id),
            Notification(user_id=real_user, event="returned", entry_id=real.id, note="kept"),
            OutboxMessage(to_email=marina.email, subject="Demo", body="To a demo account"),
            OutboxMessage(to_email="reporter-ep@example.org", subject="Real", body="To a real account"),
        ])
        audit.record(session, "login.succeeded", actor=marina)
        session.commit()
        return World(real_user, real.id, cycle.id, demo_evidence, real_evidence)


def scalar(app, query):
    with app.app_context():
        return db.session.scalar(query)


def count(app, model, *where) -> int:
    return scalar(app, sa.select(sa.func.count()).select_from(model).where(*where))


def purge(cli):
    result = cli("demo", "purge", "--yes")
    assert result.exit_code == 0, result.output
    return result


def demo_leftovers_now(app) -> dict[str, int]:
    with app.app_context():
        return demo_leftovers(db.session)


def table_counts(app) -> dict[str, int]:
    from tracker.db import Base

    with app.app_context():
        return {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


# -- what purge removes -----------------------------------------------------------------------------


def test_purge_removes_the_demo_accounts_and_keeps_real_ones(app, cli, world):
    purge(cli)
    assert count(app, User, User.email.in_(DEMO_EMAILS)) == 0
    assert count(app, User, User.id == world.real_user) == 1


def test_purge_removes_demo_entries_with_their_versions(app, cli, world):
    with app.app_context():
        demo_ids = list(db.session.scalars(sa.select(Entry.id).filter_by(is_demo=True)))
    assert len(demo_ids) == 14
    purge(cli)
    assert count(app, Entry, Entry.is_demo) == 0
    assert count(app, EntryVersion, EntryVersion.entry_id.in_(demo_ids)) == 0


def test_purge_deletes_the_evidence_of_demo_entries_from_disk(app, cli, world):
    assert world.demo_evidence.exists()
    purge(cli)
    assert not world.demo_evidence.exists()
    assert count(app, Evidence, Evidence.stored_name == world.demo_evidence.name) == 0


def test_purge_keeps_the_evidence_of_real_entries(app, cli, world):
    """Even uploaded by a demo account: the file and its row stay, only the link to the account goes."""
    purge(cli)
    assert world.real_evidence.exists()
    assert scalar(app, sa.select(Evidence.uploaded_by_id).filter_by(stored_name=world.real_evidence.name)) is None


def test_purge_removes_notifications_of_demo_entries_and_demo_accounts(app, cli, world):
    purge(cli)
    with app.app_context():
        left = db.session.execute(sa.select(Notification.user_id, Notification.entry_id, Notification.note)).all()
    assert left == [(world.real_user, world.real_entry, "kept")]


def test_purge_removes_the_outbox_messages_of_demo_accounts(app, cli, world):
    purge(cli)
    with app.app_context():
        assert list(db.session.scalars(sa.select(OutboxMessage.to_email))) == ["reporter-ep@example.org"]


def test_purge_keeps_real_entries_and_their_cycle(app, cli, world):
    purge(cli)
    assert count(app, Entry, Entry.id == world.real_entry) == 1
    assert count(app, EntryVersion, EntryVersion.entry_id == world.real_entry) == 1
    assert count(app, ReportingCycle, ReportingCycle.id == world.cycle_2023) == 1


def test_purge_removes_the_demo_cycles_left_empty(app, cli, world):
    """2022 and 2024 held only demo entries, this year's cycle none: the demo seed made them all."""
    purge(cli)
    with app.app_context():
        assert list(db.session.scalars(sa.select(ReportingCycle.year))) == [2023]


def test_purge_keeps_an_empty_cycle_opened_in_the_app(app, cli, world, make_user):
    committee_id, _ = make_user(Role.committee)
    with app.test_request_context():
        plan = _one(pm.Plan, code="PE-2021")
        progress.open_cycle(db.session, plan, 2030, date(2031, 3, 31), db.session.get(User, committee_id))
        db.session.commit()
    purge(cli)
    with app.app_context():
        assert sorted(db.session.scalars(sa.select(ReportingCycle.year))) == [2023, 2030]


def test_purge_keeps_the_audit_log_readable(app, cli, world):
    """Events of demo accounts stay, with the e-mail they were written with; the purge itself is logged."""
    purge(cli)
    with app.app_context():
        login = _one(audit.AuditEvent, action="login.succeeded", actor_email="marina@demo.example.org")
        purged = _one(audit.AuditEvent, action="demo.purged")
        assert login.actor_id is None
        assert purged.details_dict["removed"]["user_account"] == len(DEMO_ACCOUNTS)
        assert db.session.get(Entry, world.real_entry).reviewed_by_id is None


def test_purge_removes_synthetic_plans_with_everything_under_them(app, cli, peru):
    with app.test_request_context():
        generate(db.session, TINY)
        plan = _one(pm.Plan, code="DEMO-001")
        entry = db.session.scalars(sa.select(Entry).join(ReportingCycle).where(ReportingCycle.plan_id == plan.id)).first()
        entry.is_demo = False  # a real-looking entry in a synthetic plan goes with the plan too
        evidence = _store_pdf(db.session, None, entry)
        db.session.commit()
    purge(cli)
    assert count(app, pm.Plan, pm.Plan.code.like("DEMO-%")) == 0
    for model in (pm.Indicator, pm.Action, pm.Pillar, ReportingCycle):
        assert count(app, model, model.plan_id == plan.id) == 0, model
    assert count(app, pm.Country, pm.Country.iso_code == "ZZ") == 0
    assert count(app, pm.Institution, pm.Institution.code.like("INST-%")) == 0
    assert not evidence.exists()
    assert count(app, pm.Plan, pm.Plan.code == "PE-2021") == 1


def test_purge_deletes_the_final_reports_of_synthetic_plans(app, cli, peru):
    from tracker.reports import services as reports
    from tracker.reports.models import FinalReport

    data = b'{"report": "final"}'
    with app.test_request_context():
        generate(db.session, TINY)
        path = storage.store().path(reports.final_key("demo-final.json"))
        path.write_bytes(data)
        db.session.add(FinalReport(plan_id=_one(pm.Plan, code="DEMO-001").id, year=2020, version=1, language="es", format="json",
                                   stored_name=path.name, size=len(data), sha256=hashlib.sha256(data).hexdigest()))
        db.session.commit()
    purge(cli)
    assert count(app, FinalReport) == 0
    assert not path.exists()


def test_purge_prints_counts_per_kind(cli, world):
    output = purge(cli).output
    assert f"{len(DEMO_ACCOUNTS)} demo accounts" in output
    assert "14 entries" in output
    assert "  1 evidence record\n" in output
    assert "reporting cycles" in output
    assert "Deleted 1 stored file." in output


def test_purge_works_in_production(app, cli, world, monkeypatch):
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    monkeypatch.setitem(app.config, "DEMO_ACCOUNTS", False)
    purge(cli)
    assert demo_leftovers_now(app) == {}


def test_purge_is_idempotent(app, cli, world):
    purge(cli)
    before = table_counts(app)
    second = purge(cli)
    assert "Nothing to purge" in second.output
    assert table_counts(app) == before


def test_purge_on_a_clean_database_needs_no_confirmation(app, cli, peru):
    result = cli("demo", "purge")
    assert result.exit_code == 0, result.output
    assert "Nothing to purge" in result.output
    assert count(app, audit.AuditEvent, audit.AuditEvent.action == "demo.purged") == 0


@pytest.mark.parametrize("answer", ["n\n", None], ids=["no", "no-terminal"])
def test_purge_without_yes_asks_and_a_no_changes_nothing(app, cli, world, answer):
    before = table_counts(app)
    result = cli("demo", "purge", input=answer)
    assert result.exit_code != 0
    assert "Remove 9 demo accounts, 14 demo entries" in result.output and "Aborted" in result.output
    assert table_counts(app) == before
    assert world.demo_evidence.exists()


def test_purge_answered_yes_removes(app, cli, world):
    result = cli("demo", "purge", input="y\n")
    assert result.exit_code == 0, result.output
    assert demo_leftovers_now(app) == {}


def test_a_failed_purge_is_one_line_and_keeps_rows_and_files(app, cli, world, monkeypatch):
    """The purge's commit fails: the rows are rolled back and no file was deleted before it."""
    from tracker import demo

    before = table_counts(app)
    purge_demo_data = demo.purge_demo_data

    def purge_then_fail(session):
        purge_demo_data(session)
        raise sa.exc.OperationalError("COMMIT", {}, Exception("database is locked\nmore detail"))

    monkeypatch.setattr(demo, "purge_demo_data", purge_then_fail)
    result = cli("demo", "purge", "--yes")
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert lines == ["Error: nothing was removed: database is locked"]
    assert table_counts(app) == before
    assert world.demo_evidence.exists()


def test_a_demo_account_cannot_log_in_after_purge(app, cli, world):
    email = DEMO_EMAILS[0]
    assert Client(app.test_client()).login(email, DEMO_PASSWORD).status_code == 302
    purge(cli)
    assert Client(app.test_client()).login(email, DEMO_PASSWORD).status_code == 401


def test_a_demo_session_ends_with_the_purge(app, cli, world):
    client = Client(app.test_client())
    assert client.login(DEMO_EMAILS[0], DEMO_PASSWORD).status_code == 302
    assert client.get("/admin/users").status_code == 200
    purge(cli)
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# -- what is left, and production ------------------------------------------------------------------


def test_demo_leftovers_counts_accounts_entries_and_synthetic_plans(app, world):
    with app.app_context():
        generate(db.session, TINY)
        db.session.commit()
        synthetic = db.session.scalar(sa.select(sa.func.count()).select_from(Entry).where(Entry.is_demo)) - 14
    assert demo_leftovers_now(app) == {"demo accounts": 9, "demo entries": 14 + synthetic, "synthetic plans": 1}


def test_demo_leftovers_omits_zero_counts(app, cli, peru):
    assert cli("demo", "entries").exit_code == 0
    assert demo_leftovers_now(app) == {"demo entries": 14}


def test_demo_leftovers_is_empty_for_real_data(app, world, cli):
    purge(cli)
    assert demo_leftovers_now(app) == {}


def test_demo_leftovers_tolerates_a_database_not_migrated():
    engine = sa.create_engine("sqlite://")
    with Session(engine) as session:
        assert demo_leftovers(session) == {}
    engine.dispose()


def test_production_refuses_to_serve_with_demo_data(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    with pytest.raises(ConfigError) as exc:
        refuse_demo_data_in_production(app)
    message = str(exc.value)
    assert "\n" not in message
    assert message == ("demo data present (9 demo accounts, 14 demo entries): remove it with "
                       "`tracker demo purge --yes` before serving production")


def test_development_serves_with_demo_data(app, world):
    assert app.config["ENV_NAME"] != "production"
    refuse_demo_data_in_production(app)


def test_production_serves_once_demo_data_is_purged(app, cli, world, monkeypatch):
    purge(cli)
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    refuse_demo_data_in_production(app)


@pytest.mark.parametrize("command", [["accounts"], ["entries"], ["generate", "--plans", "1"]], ids=lambda c: c[0])
def test_demo_commands_that_write_are_refused_in_production(app, cli, peru, monkeypatch, command):
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    before = table_counts(app)
    result = cli("demo", *command)
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
    assert table_counts(app) == before
