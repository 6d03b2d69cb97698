"""Operations on a whole instance: backup, restore and the consistency check of stored files.

`tracker backup`, `tracker restore` and `tracker check` (see cli.py) call the services in backup.py,
restore.py and check.py; they raise OpsError with one line meant for the operator.
"""

from __future__ import annotations


class OpsError(RuntimeError):
    """An operation cannot go on; the message is one line meant for the operator."""
