"""Evidence files: size and type checked by content, stored outside the static folder under generated names."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

import filetype
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from tracker import audit, storage
from tracker.db import utcnow
from tracker.domain import ValidationFailed
from tracker.progress.models import Entry, Evidence

# Means of verification: documents, spreadsheets, presentations and images. Checked by content.
ALLOWED_TYPES = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/msword": "doc",
    "application/vnd.ms-excel": "xls",
}


def upload_folder() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def max_bytes() -> int:
    return int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024


def read_upload(upload: FileStorage, field: str = "evidence") -> tuple[bytes, str, str]:
    """Read an upload within the size limit and identify it by content; returns (data, type, safe name)."""
    data = upload.stream.read(max_bytes() + 1)
    name = secure_filename(Path((upload.filename or "").replace("\\", "/")).name) or "file"
    if len(data) > max_bytes():
        raise ValidationFailed([(field, str(_l("%(name)s is larger than %(mb)d MB.", name=name, mb=current_app.config["MAX_UPLOAD_MB"])))])
    if not data:
        raise ValidationFailed([(field, str(_l("%(name)s is empty.", name=name)))])
    kind = filetype.guess(data)
    if kind is None or kind.mime not in ALLOWED_TYPES:
        raise ValidationFailed([(field, str(_l("%(name)s is not an accepted file type (PDF, image, or office document).", name=name)))])
    return data, kind.mime, _with_extension(name, ALLOWED_TYPES[kind.mime])


def _with_extension(name: str, extension: str) -> str:
    stem = Path(name).stem or "file"
    return f"{stem[:200]}.{extension}"


def check_uploads(uploads: list[FileStorage]) -> list[tuple[bytes, str, str]]:
    """Validate every upload before anything is stored: all are accepted or none."""
    return [read_upload(u) for u in uploads if u and u.filename]


def store_evidence(session: Session, user, entry: Entry, files: list[tuple[bytes, str, str]]) -> list[Evidence]:
    """Attach checked files to the entry; they appear in the store (tracker.storage) when the session commits."""
    stored = []
    for data, mime, name in files:
        stored_name = secrets.token_hex(16)
        storage.store().save_after_commit(session, stored_name, data)
        evidence = Evidence(
            entry_id=entry.id, stored_name=stored_name, original_name=name, content_type=mime, size=len(data),
            sha256=hashlib.sha256(data).hexdigest(), uploaded_by_id=getattr(user, "id", None),
        )
        session.add(evidence)
        stored.append(evidence)
    session.flush()
    for evidence in stored:
        audit.record(session, "evidence.added", actor=user, target=entry, file=evidence.original_name, sha256=evidence.sha256)
    return stored


def remove_evidence(session: Session, user, evidence: Evidence) -> None:
    """Soft-delete: the file stays on disk and in history; it is no longer listed."""
    evidence.removed_at = utcnow()
    audit.record(session, "evidence.removed", actor=user, target=evidence.entry, file=evidence.original_name)


def evidence_key(evidence: Evidence) -> str:
    """The evidence file's key in the store (soft-removed evidence keeps its file)."""
    return evidence.stored_name


def read_evidence(evidence: Evidence) -> bytes:
    """The evidence file's bytes, wherever the store keeps them (tracker.storage.Missing when it has none)."""
    return storage.store().read(evidence_key(evidence))
