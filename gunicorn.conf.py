"""gunicorn settings, read from the environment: `gunicorn -c gunicorn.conf.py wsgi:app`."""

import gc
import os

bind = os.environ.get("GUNICORN_BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Sync workers: rendering is CPU-bound (see shared/RECIPES.md); gthread helps a remote database.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Load the app once in the master so a bad setting stops startup with one clear error.
preload_app = True


def post_worker_init(worker):
    # Objects made while importing the app live forever; freezing them keeps full garbage
    # collections short (halved the p99 of a small page here).
    gc.freeze()
