"""Plan revisions (issue 15): a plan file with a higher version is a new version of the plan, not an overwrite.

The version it replaces stays readable (its plan file as it stood, and what was reported against it); indicators
carried over keep their rows, entries and history; items the new version leaves out are retired; a file of an
earlier version is refused.
"""

from __future__ import annotations

import copy
import html
import re

import pytest
import sqlalchemy as sa
import yaml

from conftest import count_queries
from tracker.auth.models import Role
from tracker.db import db
from tracker.plan import models as pm
from tracker.plan.loader import PERU_SEED, PlanImportRefused, import_plan, validate_plan_data
from tracker.progress.models import Entry

EN = {"Accept-Language": "en"}


def _text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def _version_two() -> dict:
    """Peru's plan, version 2: IND-REC-4 dropped, IND-PAR-2 renamed, a new indicator."""
    data = yaml.safe_load(PERU_SEED.read_text(encoding="utf-8"))
    p = data["plan"]
    p["version"] = 2
    p["indicators"] = [i for i in p["indicators"] if i["code"] != "IND-REC-4"]
    par2 = next(i for i in p["indicators"] if i["code"] == "IND-PAR-2")
    par2["name"]["en"] = "Military personnel deployed in UN peace operations, by sex (revised)"
    new = copy.deepcopy(par2)
    new.update(code="IND-PAR-4", tags=[])
    new["name"] = {"es": "Mujeres instructoras en operaciones de paz", "en": "Women instructors in peace operations"}
    p["indicators"].append(new)
    return data


@pytest.fixture
def with_entries(app, peru):
    from tracker.demo import seed_peru_demo

    with app.app_context():
        seed_peru_demo(db.session)
        db.session.commit()
        return db.session.scalar(sa.select(sa.func.count()).select_from(Entry))


def _cli_import(app, tmp_path, data, *args):
    path = tmp_path / "v.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return app.test_cli_runner().invoke(args=["plan", "import", str(path), *args])


def test_a_higher_version_keeps_the_old_one_and_retires_what_it_leaves_out(app, with_entries, tmp_path):
    with app.app_context():
        par2_id = db.session.scalar(sa.select(pm.Indicator.id).filter_by(code="IND-PAR-2"))
    result = _cli_import(app, tmp_path, _version_two(), "--reason", "Decreto Supremo 2026: plan actualizado")
    assert result.exit_code == 0, result.output
    assert "Revision: version 1 is kept" in result.output and "1 items" in result.output
    with app.app_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        assert plan.version == 2
        kept = db.session.scalars(sa.select(pm.PlanVersion)).one()
        assert (kept.version, kept.reason, kept.superseded_by) == (1, "Decreto Supremo 2026: plan actualizado", "plan-file")
        old = yaml.safe_load(kept.snapshot)
        assert old["plan"].get("version", 1) == 1 and "IND-REC-4" in [i["code"] for i in old["plan"]["indicators"]]
        rec4 = db.session.scalars(sa.select(pm.Indicator).filter_by(code="IND-REC-4")).one()
        assert rec4.retired and "Not in version 2" in rec4.retired_reason
        par2 = db.session.scalars(sa.select(pm.Indicator).filter_by(code="IND-PAR-2")).one()
        assert par2.id == par2_id and par2.name_en.endswith("(revised)")  # carried over: the same row, its entries
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Entry)) == with_entries
        change = db.session.scalars(sa.select(pm.PlanChange).filter_by(item_code="IND-PAR-2", field="name_en")).one()
        assert change.reason == "Decreto Supremo 2026: plan actualizado"
        assert db.session.scalars(sa.select(pm.Indicator).filter_by(code="IND-PAR-4")).one()


def test_the_earlier_version_stays_readable_with_what_was_reported_against_it(app, with_entries, tmp_path, login_as):
    _cli_import(app, tmp_path, _version_two())
    viewer = login_as(Role.viewer)
    page = _text(viewer.get("/plans/PE-2021/versions", headers=EN))
    assert "in force" in page and f"{with_entries}" in page
    old = viewer.get("/plans/PE-2021/versions/1", headers=EN)
    assert old.status_code == 200
    text = _text(old)
    assert "Version 1 of the plan, replaced on" in text
    assert "IND-REC-4" in text and "(revised)" not in text  # as it stood
    assert f"{with_entries} entries were reported against it" in text
    assert viewer.get("/plans/PE-2021/versions/9").status_code == 404
    assert viewer.get("/plans/PE-2021/versions/2").status_code == 302  # the version in force is the plan page


def test_entries_made_after_the_revision_belong_to_the_new_version(app, with_entries, tmp_path):
    from tracker.plan.services import plan_versions

    _cli_import(app, tmp_path, _version_two())
    with app.app_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        current, earlier = plan_versions(db.session, plan)
        assert (current.version, current.entries, earlier.version, earlier.entries) == (2, 0, 1, with_entries)


def test_an_earlier_version_cannot_replace_the_plan(app, peru, tmp_path):
    _cli_import(app, tmp_path, _version_two())
    data = yaml.safe_load(PERU_SEED.read_text(encoding="utf-8"))
    result = _cli_import(app, tmp_path, data)
    assert result.exit_code == 1 and "is at version 2; a file of version 1 cannot replace it" in result.output
    with app.app_context():
        with pytest.raises(PlanImportRefused):
            import_plan(db.session, validate_plan_data(data, "v1.yaml"))
        db.session.rollback()


def test_a_revision_naming_a_retired_item_again_brings_it_back(app, peru, tmp_path):
    _cli_import(app, tmp_path, _version_two())
    three = yaml.safe_load(PERU_SEED.read_text(encoding="utf-8"))
    three["plan"]["version"] = 3
    assert _cli_import(app, tmp_path, three).exit_code == 0
    with app.app_context():
        assert not db.session.scalars(sa.select(pm.Indicator).filter_by(code="IND-REC-4")).one().retired
        assert db.session.scalars(sa.select(pm.Indicator).filter_by(code="IND-PAR-4")).one().retired
        assert [v.version for v in db.session.scalars(sa.select(pm.PlanVersion).order_by(pm.PlanVersion.version))] == [1, 2]


def test_the_versions_page_runs_the_same_queries_with_more_versions(app, peru, tmp_path, login_as):
    viewer = login_as(Role.viewer)
    with app.app_context():
        engine = db.engine
    _cli_import(app, tmp_path, _version_two())
    with count_queries(engine) as one:
        viewer.get("/plans/PE-2021/versions")
    for n in (3, 4, 5):
        data = _version_two()
        data["plan"]["version"] = n
        _cli_import(app, tmp_path, data)
    with count_queries(engine) as four:
        viewer.get("/plans/PE-2021/versions")
    assert len(four) == len(one)


def test_a_kept_version_that_no_longer_reads_says_so_instead_of_failing(app, peru, tmp_path, login_as):
    _cli_import(app, tmp_path, _version_two())
    with app.app_context():
        db.session.scalars(sa.select(pm.PlanVersion)).one().snapshot = "format: nap-tracker/plan@0\n"
        db.session.commit()
    viewer = login_as(Role.viewer)
    response = viewer.get("/plans/PE-2021/versions/1", headers=EN)
    assert response.status_code == 302 and response.headers["Location"].endswith("/plans/PE-2021/versions")
    assert "Version 1 of the plan is kept but cannot be shown" in _text(viewer.get("/plans/PE-2021/versions", headers=EN))
