"""Page speed under gunicorn, as ratios to a baseline measured in the same run.

    make bench                       # SQLite, 2 sync workers, 200-comment thread
    BENCH_COMMENTS=1000 make bench   # a longer thread

Each page is loaded by a few client threads for a fixed number of requests; throughput and
latency percentiles are printed with the ratio of each page's throughput to the baseline
(`/healthz`, one database round trip and no template). Ratios, not seconds, are what to compare
between machines and runs. Results go to bench/results/latest.json.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = {
    "baseline /healthz": "/healthz",
    "home": "/",
    "disease page": "/diseases/scleromyxedema",
    "all questions": "/diseases/scleromyxedema/questions",
    "question page (thread)": (
        "/diseases/scleromyxedema/questions/what-are-the-latest-advances-in-scleromyxedema"
    ),
    "map page": "/diseases/scleromyxedema/map",
}
# Throughput a page must keep relative to the baseline; a run below it exits non-zero.
TARGETS = {
    "home": 0.30,
    "disease page": 0.25,
    "all questions": 0.25,
    # 50 threads with their first replies (~115 comments, ~100 KB of HTML) on one page.
    "question page (thread)": 0.06,
    "map page": 0.15,
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _prepare(env: dict, comments: int) -> None:
    code = (
        "from forum import create_app; from forum.extensions import db; "
        "from flask_migrate import upgrade; from bench.generate import build; "
        "app = create_app(); ctx = app.app_context(); ctx.push(); upgrade(); "
        f"build(comments={comments})"
    )
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)


def _wait_ready(base: str, proc: subprocess.Popen) -> None:
    for _ in range(100):
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited during startup")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not answer")


def _load(url: str, requests: int, concurrency: int) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_thread = requests // concurrency

    def worker():
        nonlocal errors
        for _ in range(per_thread):
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(url, timeout=30) as response:
                    response.read()
                    ok = response.status == 200
            except OSError:
                ok = False
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                errors += 0 if ok else 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {
        "requests": len(latencies),
        "errors": errors,
        "req_per_s": len(latencies) / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": pick(0.95),
        "p99_ms": pick(0.99),
    }


def main() -> int:
    comments = int(os.environ.get("BENCH_COMMENTS", "200"))
    requests = int(os.environ.get("BENCH_REQUESTS", "400"))
    concurrency = int(os.environ.get("BENCH_CONCURRENCY", "4"))
    workdir = Path(tempfile.mkdtemp(prefix="forum-bench-"))
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.db'}")
    env.update(
        {
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": "false",
            "PYTHONPATH": str(ROOT),
            "GUNICORN_ACCESS_LOG": "",
            "WEB_CONCURRENCY": env.get("WEB_CONCURRENCY", "2"),
        }
    )
    print(f"preparing {env['DATABASE_URL']} with a {comments}-comment thread ...")
    _prepare(env, comments)
    port = _free_port()
    env["PORT"] = str(port)
    gunicorn = [
        str(Path(sys.executable).parent / "gunicorn"),
        "-c",
        "gunicorn.conf.py",
        "--access-logfile",
        "/dev/null",
        "wsgi:app",
    ]
    proc = subprocess.Popen(
        gunicorn, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    results = {}
    try:
        _wait_ready(base, proc)
        for name, path in PAGES.items():
            _load(base + path, 40, concurrency)  # warm up
            results[name] = _load(base + path, requests, concurrency)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)

    baseline = results["baseline /healthz"]["req_per_s"]
    failed = []
    print(f"\n{'page':28} {'req/s':>8} {'ratio':>6} {'target':>6} {'p50 ms':>7} {'p99 ms':>7} err")
    for name, row in results.items():
        row["ratio"] = row["req_per_s"] / baseline
        target = TARGETS.get(name)
        row["target"] = target
        mark = ""
        if target is not None and row["ratio"] < target or row["errors"]:
            failed.append(name)
            mark = "  <-- below target" if not row["errors"] else "  <-- errors"
        print(
            f"{name:28} {row['req_per_s']:8.1f} {row['ratio']:6.2f} "
            f"{(f'{target:.2f}' if target else '-'):>6} {row['p50_ms']:7.1f} "
            f"{row['p99_ms']:7.1f} {row['errors']}{mark}"
        )
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(
        json.dumps(
            {
                "comments": comments,
                "requests": requests,
                "concurrency": concurrency,
                "database": env["DATABASE_URL"].split(":")[0],
                "pages": results,
            },
            indent=2,
        )
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
