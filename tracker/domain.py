"""Errors that services raise; views turn them into form errors, flashes or status codes."""

from __future__ import annotations


class DomainError(Exception):
    """Base of the business-rule errors."""


class ValidationFailed(DomainError):
    """Input breaks a rule; `errors` holds (field, translated message) pairs, field '' for the form."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{f or 'form'}: {m}" for f, m in errors))


class PermissionDenied(DomainError):
    """The user may not do this."""


class WorkflowError(DomainError):
    """The object's state does not allow this transition."""
