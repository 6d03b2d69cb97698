"""gunicorn settings for NAP Tracker: `gunicorn -c deploy/gunicorn.conf.py tracker.wsgi:app`.

Command-line options and GUNICORN_CMD_ARGS override these values.
"""

import multiprocessing
import os

bind = os.environ.get("TRACKER_BIND", "127.0.0.1:8000")
# Measured with bench/gunicorn_settings.py on 2 cores (PostgreSQL, Redis, wrk with 16 connections on the committee
# dashboard): a dashboard costs 60-80 ms of CPU in the worker, nearly all of its time, so the cores are the limit
# and threads only contend for the GIL. Sync workers at 2 x cores + 1 gave the best throughput and p99 of every
# layout tried (2.2x the requests per second of 2 sync workers; no gthread layout of 2-3 workers x 2-4 threads
# did better consistently), at about 90 MiB of unshared memory per worker, and keep a spare worker free while one
# serves a 1-2.5 s report file.
workers = int(os.environ.get("TRACKER_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8)))
worker_class = "sync"
# The app is built and checked once, in the master: a configuration error stops the server with one line
# (tracker.wsgi), and the workers start from an app that is known to be ready.
preload_app = True
# The slowest request measured is the annual report file under load (2.5 s); with a queue the long work (final
# reports, large imports and templates) runs on the worker, so 30 s is ten times the slowest page. Without a queue
# that work runs in the request: 60 s.
timeout = int(os.environ.get("TRACKER_WORKER_TIMEOUT", 30 if os.environ.get("TRACKER_QUEUE_URL") else 60))
graceful_timeout = 30
accesslog = "-"
errorlog = "-"
# One JSON object per request, with the id the app sent back (X-Request-Id), to match the app's own log lines.
access_log_format = ('{"time": "%(t)s", "request_id": "%({x-request-id}o)s", "method": "%(m)s", "path": "%(U)s", '
                     '"status": %(s)s, "bytes": "%(B)s", "duration_ms": %(M)s, "remote": "%(h)s"}')
# Behind a reverse proxy on the same host; set TRACKER_PROXY_HOPS so the app trusts X-Forwarded-* too.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
