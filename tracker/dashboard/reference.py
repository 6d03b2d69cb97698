"""Reference data kept as files: the UN Uniformed Gender Parity Strategy's yearly targets."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

import yaml

from tracker.plan.loader import SEED_DIR
from tracker.status import ParityTarget

PARITY_FILE = SEED_DIR / "reference" / "un-gender-parity.yaml"


@lru_cache(maxsize=1)
def parity_targets() -> tuple[ParityTarget, ...]:
    """The yearly UN targets for women's share of military contingents and of observers and staff officers."""
    data = yaml.safe_load(PARITY_FILE.read_text(encoding="utf-8"))
    return tuple(
        ParityTarget(
            year=int(row["year"]),
            contingents=Decimal(str(row["contingents"])),
            observers_staff=Decimal(str(row["observers_staff"])),
            source=data["source"],
        )
        for row in data["targets"]
    )
