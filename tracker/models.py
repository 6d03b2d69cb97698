"""Imports every feature's models so that the metadata is complete (Alembic, tests)."""


def load_all() -> None:
    from tracker import audit, storage  # noqa: F401
    from tracker.api import tokens  # noqa: F401
    from tracker.auth import models as auth_models  # noqa: F401
    from tracker.budget import models as budget_models  # noqa: F401
    from tracker.plan import models as plan_models  # noqa: F401
    from tracker.progress import models as progress_models  # noqa: F401
    from tracker.reports import models as report_models  # noqa: F401
    from tracker.tasks import models as task_models  # noqa: F401
