"""Page speed under gunicorn, as ratios to a minimal Flask + SQLAlchemy + Jinja page.

    make bench                  # SQLite, 2 sync workers; three to five minutes
    BENCH_SECONDS=5 make bench  # longer wrk runs (default 3 s each, 2 rounds)

What it does, in order:
1. bench/generate.py fills a SQLite database with a 200-comment thread (and 2,000 map members,
   200 questions, 20,000 votes); a copy is topped up to a 2,000-comment thread.
2. For each database it starts the forum under gunicorn (production settings, 2 sync workers,
   rate limits off, page size and folds raised so the first page holds the whole 200-comment
   thread) and bench/baseline.py under gunicorn (2 sync workers) on free 127.0.0.1 ports.
3. Each page is driven with wrk, alternating with the baseline, BENCH_ROUNDS times; the ratio is
   the page's requests per second over the baseline's in the same round.
4. It prints one table (page, bytes, SQL queries per request, req/s, p50, p99, ratio), the
   workers' resident memory at the end, and writes the run as JSON to bench/results/.

Queries per request come from the forum's X-Query-Count header, which the benchmark turns on
with QUERY_COUNT_HEADER (off in production).
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.generate import BENCH_MEMBER, BENCH_PASSWORD  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
PAGE_CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
POST_CONNECTIONS = 16
# Comma-separated parts of page names to drive (all when empty), e.g. BENCH_ONLY=visitor
ONLY = [part.strip() for part in os.environ.get("BENCH_ONLY", "").split(",") if part.strip()]
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Page:
    name: str
    path: str
    member: bool = False
    method: str = "GET"
    headers: dict = field(default_factory=dict)
    form: dict | None = None  # posted fields; "{n}" in a value is replaced by a counter
    connections: int = PAGE_CONNECTIONS


# -- processes -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"server for {url} exited during startup")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def start(app: str, env: dict, port: int, log: Path) -> subprocess.Popen:
    command = [
        GUNICORN,
        "-c",
        str(ROOT / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--worker-class",
        "sync",
        "--access-logfile",
        "/dev/null",
        "--no-control-socket",
        app,
    ]
    with open(log, "ab") as fh:
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=fh, stderr=fh)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def worker_rss_mb(master: subprocess.Popen) -> list[float]:
    """Resident memory of each worker of a gunicorn master, in MB."""
    sizes = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) != master.pid:
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError):
            continue
        kb = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
        sizes.append(round(kb / 1024, 1))
    return sorted(sizes)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing it with apt-get ...")
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False)
    found = shutil.which("wrk")
    if not found:
        subprocess.run(["apt-get", "update", "-q"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)
        found = shutil.which("wrk")
    return found


# -- data --------------------------------------------------------------------------------------


def generate(url: str, comments: int) -> str:
    """Run bench/generate.py; gives the question page path it prints last."""
    out = subprocess.run(
        [
            PYTHON,
            str(ROOT / "bench" / "generate.py"),
            "--database-url",
            url,
            "--comments",
            str(comments),
        ],
        cwd=ROOT,
        env=base_env(),
        check=True,
        capture_output=True,
        text=True,
    )
    lines = out.stdout.strip().splitlines()
    print("  " + lines[-2])
    return lines[-1]


def copy_database(source: Path, target: Path) -> None:
    """A copy through SQLite's backup API (never a file copy, which could miss the WAL)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def sqlite_scalar(path: Path, sql: str):
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchone()[0]


# -- HTTP ----------------------------------------------------------------------------------------


class Client:
    """A tiny browser: keeps cookies, sends headers, reads the answer and its headers."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        handler = urllib.request.HTTPCookieProcessor(self.jar)
        self.opener = urllib.request.build_opener(handler, NoRedirect)

    def fetch(self, url, data=None, headers=None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def log_in(base: str) -> Client:
    client = Client()
    _, _, page = client.fetch(base + "/login")
    token = TOKEN.search(page.decode()).group(1)
    status, _, _ = client.fetch(
        base + "/login",
        {"csrf_token": token, "username": BENCH_MEMBER, "password": BENCH_PASSWORD, "next": ""},
    )
    if status != 303:
        raise SystemExit(f"the bench member could not log in (status {status})")
    return client


# -- wrk -----------------------------------------------------------------------------------------

LUA = """
wrk.method = {method}
wrk.headers = {headers}
local form = {form}
local round = {round}
local n = 0
request = function()
  if form == nil then
    return wrk.format()
  end
  n = n + 1
  local body = string.gsub(form, "{{n}}", round .. "-" .. n)
  return wrk.format(nil, nil, nil, body)
end
done = function(summary, latency, requests)
  io.write(string.format(
    "JSON {{\\"requests\\": %d, \\"seconds\\": %.6f, \\"errors\\": %d, \\"status\\": %d, "
    .. "\\"p50_ms\\": %.3f, \\"p99_ms\\": %.3f}}\\n",
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid Lua string literal for our characters


def run_wrk(wrk: str, url: str, page: Page, headers: dict, workdir: Path, round_no: int) -> dict:
    form = None
    if page.form is not None:
        form = lua_string(urllib.parse.urlencode(page.form).replace("%7Bn%7D", "{n}"))
    table = "{" + ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
    script = workdir / "wrk.lua"
    script.write_text(
        LUA.format(
            method=lua_string(page.method),
            headers=table + "}",
            form=form or "nil",
            round=round_no,
        )
    )
    out = subprocess.run(
        [
            wrk,
            "-t1",
            f"-c{page.connections}",
            f"-d{SECONDS}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("JSON "))
    result = json.loads(line[5:])
    result["req_per_s"] = result["requests"] / result["seconds"]
    return result


# -- one server pair -----------------------------------------------------------------------------


def base_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def measure(
    pages: list[Page], db_path: Path, per_page: int, question_path: str, wrk: str, workdir: Path
):
    """Start the forum and the baseline on one database, drive each page; gives rows and RSS."""
    url = f"sqlite:///{db_path}"
    forum_port, baseline_port = free_port(), free_port()
    forum_env = base_env() | {
        "FORUM_ENV": "production",
        "FORUM_HTTPS": "false",
        "TRUSTED_HOSTS": "127.0.0.1",
        "SECRET_KEY": "bench-secret-key-not-for-production",
        "DATABASE_URL": url,
        "RATELIMIT_ENABLED": "false",
        "COMMENTS_PER_PAGE": str(per_page),
        "REPLIES_SHOWN": "10000",
        "COMMENT_MAX_DEPTH": "12",
        "QUERY_COUNT_HEADER": "true",
    }
    baseline_env = base_env() | {"DATABASE_URL": url, "COMMENTS_PER_PAGE": str(per_page)}
    forum = start("wsgi:app", forum_env, forum_port, workdir / "forum.log")
    baseline = start("bench.baseline:app", baseline_env, baseline_port, workdir / "baseline.log")
    rows, rss = [], {}
    try:
        forum_base = f"http://127.0.0.1:{forum_port}"
        baseline_base = f"http://127.0.0.1:{baseline_port}"
        wait_ready(forum_base + "/healthz", forum)
        wait_ready(baseline_base + "/healthz", baseline)
        member = log_in(forum_base)
        baseline_url = baseline_base + question_path
        for page in pages:
            rows.append(drive(page, forum_base, baseline_url, member, wrk, workdir))
        rss = {"forum": worker_rss_mb(forum), "baseline": worker_rss_mb(baseline)}
    finally:
        stop(forum)
        stop(baseline)
    return rows, rss


def drive(page: Page, base: str, baseline_url: str, member: Client, wrk: str, workdir: Path):
    headers = dict(page.headers)
    source = headers.pop("X-From-Page", "/")
    probe = Client()
    if page.method == "POST":
        # The token of the member's session, as the page gives it to htmx. Fetched first: a
        # session's first token changes its cookie, which wrk must then send.
        _, _, html = member.fetch(base + source)
        headers["X-CSRFToken"] = TOKEN.search(html.decode()).group(1)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if page.member:
        headers["Cookie"] = member.cookie_header()
        probe = member
    url = base + page.path
    # One request outside wrk: its size, its status and its SQL queries. A visitor's page is
    # asked until a worker answers from its cache, as wrk will see it (each worker has its own
    # cache in memory, and either may answer).
    form = {k: v.replace("{n}", "probe") for k, v in (page.form or {}).items()}
    for _ in range(8):
        status, answer_headers, body = probe.fetch(
            url, form if page.method == "POST" else None, headers
        )
        if page.member or page.method != "GET" or answer_headers.get("X-Page-Cache") == "hit":
            break
    if status != 200:
        raise SystemExit(f"{page.name}: {url} answered {status}")
    row = {
        "page": page.name,
        "path": page.path,
        "bytes": len(body),
        "queries": int(answer_headers.get("X-Query-Count", "-1")),
        "cache": answer_headers.get("X-Page-Cache", ""),
        "connections": page.connections,
        "rounds": [],
    }
    run_wrk(wrk, url, page, headers, workdir, 0)  # warm up
    for round_no in range(1, ROUNDS + 1):
        ours = run_wrk(wrk, url, page, headers, workdir, round_no)
        plain = Page("baseline", "", connections=page.connections)
        theirs = run_wrk(wrk, baseline_url, plain, {}, workdir, round_no)
        row["rounds"].append({"page": ours, "baseline": theirs})
    n = len(row["rounds"])
    row["req_per_s"] = sum(r["page"]["req_per_s"] for r in row["rounds"]) / n
    row["p50_ms"] = sum(r["page"]["p50_ms"] for r in row["rounds"]) / n
    row["p99_ms"] = max(r["page"]["p99_ms"] for r in row["rounds"])
    row["baseline_req_per_s"] = sum(r["baseline"]["req_per_s"] for r in row["rounds"]) / n
    row["ratio"] = (
        sum(r["page"]["req_per_s"] / r["baseline"]["req_per_s"] for r in row["rounds"]) / n
    )
    row["errors"] = sum(r["page"]["errors"] + r["page"]["status"] for r in row["rounds"])
    print(
        f"  {page.name:34} {row['req_per_s']:8.1f} req/s  ratio {row['ratio']:5.2f}"
        f"  (baseline {row['baseline_req_per_s']:.1f})"
    )
    return row


# -- the run -------------------------------------------------------------------------------------


def main() -> int:
    wrk = ensure_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="forum-bench-"))
    began = time.perf_counter()
    small, large = workdir / "bench-200.db", workdir / "bench-2000.db"
    print(f"generating the 200-comment database in {workdir} ...")
    question = generate(f"sqlite:///{small}", 200)
    copy_database(small, large)
    print("topping a copy up to a 2,000-comment thread ...")
    generate(f"sqlite:///{large}", 2000)
    slug = question.split("/")[2]
    roots = sqlite_scalar(
        small,
        "SELECT count(*) FROM comments WHERE parent_id IS NULL AND question_id = "
        f"(SELECT id FROM questions WHERE slug = '{question.split('/')[-1]}')",
    )
    big_question = sqlite_scalar(
        small, f"SELECT id FROM questions WHERE slug = '{question.split('/')[-1]}'"
    )
    first_comment = sqlite_scalar(
        small,
        f"SELECT id FROM comments WHERE question_id = {big_question} AND parent_id IS NULL "
        "ORDER BY created_at, id LIMIT 1",
    )
    htmx = {"HX-Request": "true", "HX-Current-URL": "http://127.0.0.1" + question}
    reply_body = (
        "Thank you for writing this down, it matches what we saw at the reference centre. "
        "Reply {n}: *keep a diary* of each infusion and take it to every appointment."
    )
    small_pages = [
        Page("question page 200, visitor", question),
        Page("question page 200, member", question, member=True),
        Page("disease page, visitor", f"/diseases/{slug}"),
        Page("map page 2,000 members, visitor", f"/diseases/{slug}/map"),
        Page("map page 2,000 members, member", f"/diseases/{slug}/map", member=True),
        Page("home search fragment, visitor", "/?q=scler", headers={"HX-Request": "true"}),
        Page(
            "htmx vote toggle, member",
            f"{question}/vote",
            member=True,
            method="POST",
            headers=htmx | {"X-From-Page": question},
            form={},
            connections=POST_CONNECTIONS,
        ),
        Page(
            "htmx reply post, member",
            f"/questions/{big_question}/comments",
            member=True,
            method="POST",
            headers=htmx | {"X-From-Page": question},
            form={"parent_id": str(first_comment), "order": "oldest", "body": reply_body},
            connections=POST_CONNECTIONS,
        ),
    ]
    large_pages = [
        Page("question page 2,000, visitor", question),
        Page("question page 2,000, member", question, member=True),
    ]
    if ONLY:
        small_pages = [p for p in small_pages if any(part in p.name for part in ONLY)]
        large_pages = [p for p in large_pages if any(part in p.name for part in ONLY)]
    print(f"driving pages with wrk: {SECONDS} s per run, {ROUNDS} rounds, page size {roots} ...")
    rows, rss = measure(small_pages, small, roots, question, wrk, workdir)
    large_rows, large_rss = (
        measure(large_pages, large, roots, question, wrk, workdir) if large_pages else ([], {})
    )
    rows[2:2] = large_rows
    map_svg_ms = svg_render_ms(small)

    print()
    print(
        f"{'page':34} {'bytes':>8} {'SQL':>4} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'ratio':>6}"
    )
    for row in rows:
        errors = f"  ({row['errors']} errors)" if row["errors"] else ""
        print(
            f"{row['page']:34} {row['bytes']:8,} {row['queries']:4} {row['req_per_s']:8.1f} "
            f"{row['p50_ms']:7.1f} {row['p99_ms']:7.1f} {row['ratio']:6.2f}{errors}"
        )
    print(
        f"\nbaseline: bench/baseline.py, the same {roots} threads from one query, flat template; "
        "ratio = page req/s / baseline req/s in the same round"
    )
    print(f"map SVG render (2,000 members, in process): {map_svg_ms:.2f} ms")
    print(
        f"worker RSS after the run (MB): forum {rss['forum']} "
        f"(2,000-comment run {large_rss.get('forum')}), baseline {rss['baseline']}"
    )
    total = time.perf_counter() - began
    print(f"bench took {total:.0f} s")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "seconds_per_run": SECONDS,
        "rounds": ROUNDS,
        "page_size": roots,
        "pages": rows,
        "worker_rss_mb": {"200": rss, "2000": large_rss},
        "map_svg_render_ms": map_svg_ms,
        "total_seconds": total,
    }
    text = json.dumps(result, indent=2)
    (out / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(text)
    (out / "latest.json").write_text(text)
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def svg_render_ms(db_path: Path) -> float:
    """How long the map's SVG takes to render for 2,000 members, in this process."""
    code = f"""
import os, time
os.environ["DATABASE_URL"] = "sqlite:///{db_path}"
os.environ["SECRET_KEY"] = "bench"
from flask import render_template
from forum import create_app
from forum.maps import geo, service
from forum.models.diseases import disease_or_404
app = create_app()
with app.test_request_context("/"):
    disease = disease_or_404("scleromyxedema")
    counts = service.country_counts(disease)
    countries = service.map_countries(disease, counts)
    ctx = dict(disease=disease, world=geo.world_map(), countries=countries,
               legend=service.legend(), block=service.map_block(disease))
    render_template("maps/_world_map.html", **ctx)
    began = time.perf_counter()
    for _ in range(50):
        render_template("maps/_world_map.html", **ctx)
    print((time.perf_counter() - began) / 50 * 1000)
"""
    out = subprocess.run(
        [PYTHON, "-c", code], cwd=ROOT, env=base_env(), capture_output=True, text=True
    )
    try:
        return float(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        print("could not time the map SVG:", out.stderr[-500:])
        return float("nan")


if __name__ == "__main__":
    raise SystemExit(main())
