"""Long work started from a page and done in the background, with progress for the user to watch.

A final report in every format and both languages, a bulk import or a template beyond TRACKER_BACKGROUND_ROWS rows
would hold a web worker for longer than a page should take (and, on a loaded host, past gunicorn's timeout). The
view records a `Task` and redirects to its page; the job `run_task` does the work on the queue's worker (in the
request's process right after the commit when there is no queue), writing its progress as it goes. The page shows
a progress bar, refreshed by a small script (by the page reloading itself without JavaScript), and the result
when done: a message, a link, or the file made.

- `models.py`: the Task row.
- `services.py`: `start`, the job, the kinds' registry (`TaskKind`, `@kind`), progress.
- `views.py`: `/tasks/<id>`, its JSON status and its file.
"""
