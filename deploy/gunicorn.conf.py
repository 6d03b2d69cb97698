"""gunicorn settings for NAP Tracker: `gunicorn -c deploy/gunicorn.conf.py tracker.wsgi:app`.

Command-line options and GUNICORN_CMD_ARGS override these values.
"""

import multiprocessing
import os

bind = os.environ.get("TRACKER_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("TRACKER_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8)))
# The app is built and checked once, in the master: a configuration error stops the server with one line
# (tracker.wsgi), and the workers start from an app that is known to be ready.
preload_app = True
timeout = int(os.environ.get("TRACKER_WORKER_TIMEOUT", 60))
graceful_timeout = 30
accesslog = "-"
errorlog = "-"
# One JSON object per request, with the id the app sent back (X-Request-Id), to match the app's own log lines.
access_log_format = ('{"time": "%(t)s", "request_id": "%({x-request-id}o)s", "method": "%(m)s", "path": "%(U)s", '
                     '"status": %(s)s, "bytes": "%(B)s", "duration_ms": %(M)s, "remote": "%(h)s"}')
# Behind a reverse proxy on the same host; set TRACKER_PROXY_HOPS so the app trusts X-Forwarded-* too.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
