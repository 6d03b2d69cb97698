"""Groups of entry states, named once: everyone who asks "may this still change?" or "does this count?" asks here."""

from __future__ import annotations

from tracker.progress.models import EntryState as S

# The institution's reporters may change the values.
EDITABLE = frozenset({S.draft, S.returned})
# Submitted and not decided yet: with the focal point, or with the monitoring body.
PENDING = frozenset({S.awaiting_signoff, S.submitted})
# The monitoring body decides these.
WITH_COMMITTEE = frozenset({S.submitted})
# Locked; the values count in dashboards and reports.
COUNTED = frozenset({S.approved})
# What a provisional report or the budget compliance "including pending" counts besides approved entries.
COUNTED_PROVISIONALLY = COUNTED | WITH_COMMITTEE
