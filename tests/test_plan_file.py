"""The plan file format: validation errors name file, path and problem; export and import round-trip."""

from __future__ import annotations

import copy

import pytest
import sqlalchemy as sa
import yaml

from tracker.db import db
from tracker.plan import models as m
from tracker.plan.export import export_plan
from tracker.plan.loader import PERU_SEED, PlanFileError, import_plan, read_plan_file, validate_plan_data


@pytest.fixture(scope="module")
def peru_data():
    return yaml.safe_load(PERU_SEED.read_text(encoding="utf-8"))


def _broken(peru_data, change):
    data = copy.deepcopy(peru_data)
    change(data)
    return data


def _set(path, value):
    def change(data):
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


INVALID = [
    ("wrong format", _set(["format"], "something/else"), "format", "String should match pattern"),
    ("unknown key", _set(["plan", "colour"], "blue"), "plan.colour", "Extra inputs are not permitted"),
    ("missing title", lambda d: d["plan"].pop("title"), "plan.title", "Field required"),
    ("empty text", _set(["plan", "title"], {"es": "", "en": " "}), "plan.title", "needs a text"),
    ("bad verification", _set(["plan", "source", "verification"], "guessed"), "plan.source.verification", "Input should be"),
    ("bad year", _set(["plan", "adoption_year"], 21), "plan.adoption_year", "greater than or equal to 1900"),
    ("start after end", lambda d: d["plan"].update(start_year=2025, end_year=2022), "plan", "start_year is after end_year"),
    ("unknown pillar", lambda d: d["plan"]["actions"][0].update(pillar="XYZ"), "plan.actions[0].pillar", "unknown pillar 'XYZ'"),
    ("unknown institution", lambda d: d["plan"]["actors"][0].update(institution="NAVY"), "plan.actors[0].institution", "unknown institution 'NAVY'"),
    ("duplicate code", lambda d: d["plan"]["actions"][1].update(code="PAR-1"), "plan.actions[1].code", "'PAR-1' is used twice"),
    ("unknown action", lambda d: d["plan"]["indicators"][4].update(action="PAR-9"), "plan.indicators[4].action", "unknown action 'PAR-9'"),
    (
        "people counted by a qualitative indicator",
        lambda d: d["plan"]["indicators"][0].update(measure="qualitative"),
        "plan.indicators[0]",
        "only number or percentage indicators can count people",
    ),
    ("negative representatives", lambda d: d["plan"]["actors"][0].update(representatives=-1), "plan.actors[0].representatives", "greater than or equal to 0"),
    ("gap rank above total", _set(["country", "gender_gap_index"], {"rank": 200, "of": 146, "year": 2022}), "country.gender_gap_index", "rank cannot be above"),
]


@pytest.mark.parametrize(("name", "change", "where", "message"), INVALID, ids=[case[0] for case in INVALID])
def test_invalid_data_is_refused_with_path_and_reason(peru_data, name, change, where, message):
    with pytest.raises(PlanFileError) as caught:
        validate_plan_data(_broken(peru_data, change), "peru.yaml")
    paths = [p for p, _ in caught.value.problems]
    assert where in paths, caught.value.problems
    assert any(message in text for p, text in caught.value.problems if p == where)
    assert caught.value.one_line().startswith("peru.yaml: ")


def test_invalid_yaml_names_the_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: nap-tracker/plan@1\ncountry: [unclosed\n", encoding="utf-8")
    with pytest.raises(PlanFileError) as caught:
        read_plan_file(bad)
    assert caught.value.one_line().startswith(f"{bad}: line ")
    assert "not valid YAML" in caught.value.one_line()


def test_missing_file(tmp_path):
    with pytest.raises(PlanFileError, match="cannot be read"):
        read_plan_file(tmp_path / "absent.yaml")


def test_not_a_mapping(tmp_path):
    bad = tmp_path / "list.yaml"
    bad.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(PlanFileError, match="must be a mapping"):
        read_plan_file(bad)


def test_invalid_file_changes_nothing(app, tmp_path, peru_data):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(_broken(peru_data, lambda d: d["plan"]["actions"][0].update(pillar="XYZ"))), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["plan", "import", str(bad)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: {bad}: plan.actions[0].pillar: unknown pillar 'XYZ'"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(m.Plan)) == 0


def test_export_import_export_round_trip(app, peru, tmp_path):
    with app.app_context():
        first = export_plan(db.session, "PE-2021")
    # Empty the database, import the exported file, export again.
    with app.app_context():
        for table in reversed(m.Base.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
    exported = tmp_path / "pe.yaml"
    exported.write_text(first, encoding="utf-8")
    with app.app_context():
        import_plan(db.session, read_plan_file(exported))
        db.session.commit()
        second = export_plan(db.session, "PE-2021")
    assert second == first
    assert "From Acceptance to Inclusion" in first and "verification: derived" in first


def test_export_keeps_targets_and_baselines(app, peru, tmp_path, peru_data):
    data = copy.deepcopy(peru_data)
    data["plan"]["code"] = "XX-2030"
    data["plan"]["indicators"][4]["baseline"] = {"value": 12.5, "year": 2020}
    data["plan"]["indicators"][4]["targets"] = [{"year": 2024, "value": 20, "verification": "derived"}]
    path = tmp_path / "xx.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with app.app_context():
        import_plan(db.session, read_plan_file(path))
        db.session.commit()
        text = export_plan(db.session, "XX-2030")
    indicator = yaml.safe_load(text)["plan"]["indicators"][4]
    assert indicator["baseline"] == {"value": 12.5, "year": 2020}
    assert indicator["targets"] == [{"year": 2024, "value": 20, "verification": "derived"}]


def test_changed_target_keeps_the_old_one(app, peru, tmp_path, peru_data):
    def with_target(value):
        data = copy.deepcopy(peru_data)
        data["plan"]["indicators"][4]["targets"] = [{"year": 2024, "value": value, "verification": "derived", "source_document": "Committee minutes 3/2024"}]
        path = tmp_path / f"t{value}.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        return read_plan_file(path)

    with app.app_context():
        import_plan(db.session, with_target(10))
        import_plan(db.session, with_target(15), reason="Minute 3/2024 raised the target")
        db.session.commit()
        target = db.session.scalars(sa.select(m.IndicatorTarget)).one()
        first, second = db.session.scalars(sa.select(m.IndicatorTargetChange).order_by(m.IndicatorTargetChange.id))
    assert target.value == 15 and target.source_document == "Committee minutes 3/2024"
    # Setting a target is a change too; the reason is the import's, not borrowed from the source document.
    assert (first.old_value, first.new_value, first.year, first.reason) == (None, 10, 2024, "Plan file import (version 1)")
    assert (second.old_value, second.new_value, second.year) == (10, 15, 2024)
    assert second.reason == "Minute 3/2024 raised the target" and second.changed_by == "plan-file"


def test_cli_seed_twice_and_list(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed"])
    second = runner.invoke(args=["seed"])
    assert first.exit_code == 0 and "70 rows created" in first.output
    assert second.exit_code == 0 and "0 rows created, 0 updated" in second.output
    listing = runner.invoke(args=["plan", "list"])
    assert listing.output.startswith("PE-2021\tPE\tv1\t2021\tno timeframe\tFrom Acceptance to Inclusion")


def test_cli_export_to_file_and_unknown_plan(app, peru, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "out.yaml"
    assert runner.invoke(args=["plan", "export", "PE-2021", "-o", str(out)]).exit_code == 0
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["plan"]["code"] == "PE-2021"
    missing = runner.invoke(args=["plan", "export", "NOPE"])
    assert missing.exit_code == 1
    assert "Traceback" not in missing.output and "no plan has the code 'NOPE'" in missing.output


def test_import_cannot_change_what_approved_data_means(app, peru, tmp_path, peru_data):
    from tracker.demo import seed_peru_demo

    with app.app_context():
        seed_peru_demo(db.session)  # approved Navy figures for IND-PAR-1
        db.session.commit()
    data = copy.deepcopy(peru_data)
    data["plan"]["indicators"][4].update(measure="qualitative", counts_people=False)
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["plan", "import", str(path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "indicator IND-PAR-1: measure, counts_people cannot change while 3 approved entries use this indicator" in result.output
    with app.app_context():
        assert db.session.scalars(sa.select(m.Indicator.measure).filter_by(code="IND-PAR-1")).one() == m.Measure.number


# -- `tracker plan import` writes the audit log (issue 14) -------------------------------------------


def _chile_file(tmp_path, target: int = 4):
    """Chile's test plan file written out, with its first indicator's first target set to `target`."""
    from conftest import chile_data

    data = chile_data()
    data["plan"]["indicators"][0]["targets"][0]["value"] = target
    path = tmp_path / f"chile-{target}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _imports(app):
    from tracker.audit import AuditEvent

    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).filter_by(action="plan.imported").order_by(AuditEvent.id)))


def _one_line_error(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def test_import_as_an_account_is_audited_with_it(app, make_user, tmp_path):
    from tracker.auth.models import Role

    admin_id, email = make_user(Role.admin)
    result = app.test_cli_runner().invoke(args=["plan", "import", str(_chile_file(tmp_path)), "--as", email.upper()])
    assert result.exit_code == 0, result.output
    (event,) = _imports(app)
    assert (event.actor_id, event.actor_email, event.address) == (admin_id, email, "cli")
    details = event.details_dict
    assert details == {"via": "command line", "plan": "CL-2022", "file": "chile-4.yaml",
                       "created": details["created"], "updated": 0}  # a first import changes nothing it did not create
    assert f"{details['created']} rows created, 0 updated" in result.output and details["created"] > 0


def test_import_without_an_account_is_audited_as_the_command_line(app, peru, tmp_path):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["plan", "import", str(_chile_file(tmp_path))]).exit_code == 0
    assert runner.invoke(args=["plan", "import", str(_chile_file(tmp_path, target=6))]).exit_code == 0
    first, second = _imports(app)
    assert (first.actor_id, first.actor_email) == (None, "")
    assert first.details_dict["via"] == "command line"
    assert (second.details_dict["created"], second.details_dict["updated"]) == (0, 1)  # the changed target


def test_the_audit_log_page_shows_the_command_line_as_who(app, login_as, tmp_path):
    from tracker.auth.models import Role

    admin = login_as(Role.admin)
    app.test_cli_runner().invoke(args=["plan", "import", str(_chile_file(tmp_path))])
    page = admin.get("/admin/audit?action=plan.imported").get_data(as_text=True)
    row = page.split("<tbody>")[1].split("</tr>")[0]
    assert "<td>línea de comandos</td>" in row  # the admin reads Spanish
    assert "CL-2022" in row and "chile-4.yaml" in row


@pytest.mark.parametrize("who", ["nobody@example.org", "deactivated"])
def test_import_as_an_unknown_or_deactivated_account_is_refused_and_imports_nothing(app, make_user, tmp_path, who):
    from tracker.auth.models import Role

    if who == "deactivated":
        _, who = make_user(Role.admin)
        app.test_cli_runner().invoke(args=["users", "deactivate", who])
    result = app.test_cli_runner().invoke(args=["plan", "import", str(_chile_file(tmp_path)), "--as", who])
    assert who in _one_line_error(result)
    with app.app_context():
        assert db.session.scalars(sa.select(m.Plan).filter_by(code="CL-2022")).one_or_none() is None
        assert db.session.scalars(sa.select(m.Country).filter_by(iso_code="CL")).one_or_none() is None
    assert _imports(app) == []


def test_target_changes_name_the_operator_given_with_as(app, make_user, tmp_path):
    from tracker.auth.models import Role

    _, email = make_user(Role.admin)
    runner = app.test_cli_runner()
    runner.invoke(args=["plan", "import", str(_chile_file(tmp_path, target=4))])
    runner.invoke(args=["plan", "import", str(_chile_file(tmp_path, target=6)), "--as", email])
    runner.invoke(args=["plan", "import", str(_chile_file(tmp_path, target=8))])
    with app.app_context():
        changes = db.session.scalars(sa.select(m.IndicatorTargetChange).order_by(m.IndicatorTargetChange.id)).all()
        changed = [(c.old_value, c.new_value, c.changed_by) for c in changes if c.old_value is not None]
        assert changed == [(4, 6, email), (6, 8, "plan-file")]


def test_an_indicator_names_its_global_indicator_and_the_export_keeps_it(app, chile):
    """Issue 19: `global_indicator` (UN S/2010/498 set, SDG) in the plan file reaches the indicator and its export."""
    from conftest import chile_data

    data = chile_data()
    data["plan"]["version"] = data["plan"].get("version", 1)
    data["plan"]["indicators"][0]["global_indicator"] = "SDG 16.7.1"
    code = data["plan"]["indicators"][0]["code"]
    with app.app_context():
        import_plan(db.session, validate_plan_data(data, "chile with a global indicator"))
        db.session.commit()
        indicator = db.session.scalars(sa.select(m.Indicator).filter_by(code=code)).first()
        assert indicator.global_indicator == "SDG 16.7.1"
        assert "global_indicator: SDG 16.7.1" in export_plan(db.session, "CL-2022")
