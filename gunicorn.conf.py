"""gunicorn settings, read from the environment: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every setting has a default that suits one small server behind nginx; docs/deploying.md lists
the variables. Command-line flags still win over this file.
"""

import gc
import os

from gunicorn.config import KNOWN_SETTINGS

bind = os.environ.get("GUNICORN_BIND") or (
    f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Sync workers: rendering is CPU-bound (see shared/RECIPES.md). Ours stops without resetting
# the connections queued at SIGTERM (forum/workers.py). GUNICORN_THREADS above 1 picks
# gunicorn's threaded workers instead, which help when the database is on another machine.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS") or (
    "forum.workers.GracefulSyncWorker" if threads == 1 else "gthread"
)
# A worker silent for this long is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM, requests in flight get this long to finish before their worker is killed; keep it
# below systemd's TimeoutStopSec (deploy/rarecircle.service).
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Load the app once in the master so a bad setting stops startup with one clear error.
preload_app = True

# gunicorn's own messages (worker started, worker killed) as JSON lines on stdout too, so one
# stream holds everything and each line parses. Its access log stays off: the app writes one
# JSON line per request itself (forum/observability.py), and gunicorn's line would repeat each
# request with its query string, which may hold what a visitor searched for.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "forum.observability.JsonFormatter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stdout",
        },
    },
    "root": {"level": loglevel.upper(), "handlers": ["stdout"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
    },
}

# gunicorn 27 opens a control socket at ~/.gunicorn/gunicorn.ctl by default, one path shared by
# every instance started by the same user; instances behind one nginx would fight over it.
if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS):
    control_socket_disable = True


def post_worker_init(worker):
    # Objects made while importing the app live forever; freezing them keeps full garbage
    # collections short (halved the p99 of a small page here).
    gc.freeze()
