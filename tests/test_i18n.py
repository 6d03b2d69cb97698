"""Spanish first, English second: catalogs complete and compiled, every page in both languages."""

from __future__ import annotations

import re
from gettext import GNUTranslations

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po

from test_progress import YEAR, _save, committee, cycle, navy  # noqa: F401
from tracker import PROJECT_ROOT
from tracker.auth.models import Role, User
from tracker.db import db
from tracker.progress.models import Entry

CATALOG = PROJECT_ROOT / "tracker" / "translations" / "es" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
# Words that give away an untranslated interface. Plan content can be English only where it has no
# Spanish version, so pages are checked outside <main> data by using words that plan texts never use.
ENGLISH_TELLTALES = ["Submit", "Save draft", "Cancel", "Dashboard", "Log out", "Review queue", "Notifications", "Not started", "No data", "Reporting", "Show"]
SPANISH_TELLTALES = ["Guardar", "Enviar", "Tablero", "Cerrar sesión", "Bandeja de revisión", "Notificaciones", "Mis reportes"]


@pytest.fixture(scope="module")
def catalog():
    with open(CATALOG / "messages.po", "rb") as f:
        return read_po(f)


def test_spanish_catalog_has_no_gaps(catalog):
    missing = [m.id for m in catalog if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert missing == [] and fuzzy == []


def test_spanish_plurals_fill_all_forms(catalog):
    assert catalog.num_plurals == 3
    plurals = [m for m in catalog if m.id and m.pluralizable]
    assert plurals and all(len(m.string) == 3 and all(m.string) for m in plurals)


def test_placeholders_are_kept(catalog):
    for m in catalog:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        expected = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for s in strings:
            assert set(PLACEHOLDER.findall(s)) <= expected, m.id
            assert set(PLACEHOLDER.findall(ids[0])) - {"num"} <= set(PLACEHOLDER.findall(s)), m.id


def test_compiled_catalog_matches_the_po_file(catalog):
    with open(CATALOG / "messages.mo", "rb") as f:
        compiled = GNUTranslations(f)
    for m in catalog:
        if m.id and not m.pluralizable:
            assert compiled.gettext(m.id) == m.string, f"{m.id!r}: .mo is out of date (run make translations)"
        elif m.id:
            assert compiled.ngettext(m.id[0], m.id[1], 1) == m.string[0], m.id


def _get_urls(app) -> list[str]:
    """Every GET page reachable with sample arguments from the seeded data."""
    with app.app_context():
        entry_id = db.session.scalar(sa.select(sa.func.min(Entry.id)))
    samples = {"code": "PE-2021", "year": YEAR, "pillar_code": "PAR", "indicator_code": "IND-PAR-2", "item_code": "IND-PAR-2",
               "entry_id": entry_id, "institution_code": "MGP", "user_id": 1, "institution_id": 1}
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint.endswith("static") or rule.endpoint in ("core.health",):
            continue
        if any(arg not in samples for arg in rule.arguments):
            continue
        try:
            urls.append(rule.build({a: samples[a] for a in rule.arguments})[1])
        except Exception:  # noqa: BLE001 - a converter that refuses the sample value: skip that route
            continue
    return urls


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style|svg)[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html)


@pytest.mark.parametrize("role", [Role.reporter, Role.committee, Role.admin])
def test_every_page_speaks_the_users_language(app, navy, committee, login_as, role):
    _save(navy, "IND-PAR-2", {"women": "3", "men": "4"}, send=True)
    client = navy if role == Role.reporter else committee if role == Role.committee else login_as(role)
    checked = 0
    for url in _get_urls(app):
        es = client.get(url, headers={"Accept-Language": "es"})
        if es.status_code != 200 or not es.mimetype.startswith("text/html"):
            continue
        en = client.get(url, headers={"Accept-Language": "en"})
        spanish, english = _visible_text(es.get_data(as_text=True)), _visible_text(en.get_data(as_text=True))
        for word in ENGLISH_TELLTALES:
            assert not re.search(rf"\b{re.escape(word)}\b", spanish), f"{url}: English {word!r} on the Spanish page"
        for word in SPANISH_TELLTALES:
            assert not re.search(rf"\b{re.escape(word)}\b", english), f"{url}: Spanish {word!r} on the English page"
        checked += 1
    assert checked >= 10


def test_language_choice_order(app, login_as, client, peru):
    assert '<html lang="es">' in client.get("/login").get_data(as_text=True)  # default
    assert '<html lang="en">' in client.get("/login", headers={"Accept-Language": "en-GB,en"}).get_data(as_text=True)
    client.post_form("/language/es", token_from="/login")
    assert '<html lang="es">' in client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)  # switcher wins
    viewer = login_as(Role.viewer)
    viewer.post_form("/language/en", token_from="/plans/")
    with app.app_context():
        assert db.session.scalars(sa.select(User).filter_by(role=Role.viewer)).one().language == "en"
    assert '<html lang="en">' in viewer.get("/plans/", headers={"Accept-Language": "es"}).get_data(as_text=True)  # saved preference


def test_numbers_and_money_follow_peru(app, committee):
    page = committee.get("/plans/PE-2021", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "2,361,000,000" in page  # es_PE separators
