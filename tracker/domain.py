"""Errors that services raise; views turn them into form errors, flashes or status codes."""

from __future__ import annotations


class DomainError(Exception):
    """Base of the business-rule errors."""

    @property
    def message(self) -> str:
        """The sentence to show the user (a flash)."""
        return str(self)


class ValidationFailed(DomainError):
    """Input breaks a rule; `errors` holds (field, translated message) pairs, field '' for the form."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{f or 'form'}: {m}" for f, m in errors))

    @property
    def message(self) -> str:
        return self.errors[0][1] if self.errors else str(self)


class PermissionDenied(DomainError):
    """The user may not do this."""


class WorkflowError(DomainError):
    """The object's state does not allow this transition."""
