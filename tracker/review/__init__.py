"""The review workflow: an entry's states, the steps between them, the entry kinds it carries, and the sign-off.

- `states`: the groups of states the rest of the application asks about (editable, with the institution, counted);
- `workflow`: every step, declared once with its source and target states, the policy predicate that allows it,
  what it stamps on the entry and what it tells whom;
- `steps`: the one service that performs a step;
- `kinds`: the three entry kinds (indicator, action, budget item) behind one interface;
- `signoff`: which institutions of a plan have their entries endorsed by a focal point first.
"""


def init_app(app) -> None:
    """Templates ask an entry's kind (its form's address) instead of switching on it."""
    from tracker.review import kinds

    app.jinja_env.globals["entry_kind"] = kinds.of
