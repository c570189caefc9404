"""Full LTI launches per second, tool CPU per launch and latency, through gunicorn.

    python bench/launch.py [--launches 400] [--clients 1 4] [--workers 4 --threads 4]
                           [--postgres] [--module ID] [--only ours a a2 b c]
                           [--new-connections] [--profile N]

One capacity-lti launch is what a learner's browser does from Moodle: POST the OIDC login
initiation to /lti/login (state and nonce kept server-side), take the 302 to the platform,
which signs an id_token bound to the nonce (here this client process signs, RS256, so the
signing is not tool cost), form_post it to /launch (verified, login used once, learner and
link rows written, session token made), which answers with the first learner page (the
programme home, or a module with --module). Beside it, in the same run and served the same
way (bench/launch_apps.py):

* (a) PyLTI1p3 2.0.0's Flask adapter, bare launch (login, launch, a small page), with
  Flask-Caching as its example configures it (SimpleCache: per worker process, so it works
  only while login and launch reach the same worker, as on one keep-alive connection);
* (a') the same with the cache the workers can share, FileSystemCache, at its defaults;
* (b) that tuned: FileSystemCache with CACHE_THRESHOLD=0;
* (c) the floor: a trivial login redirect, then one RS256 verification and a small page.

Every tool runs under ``gunicorn --workers W --threads T`` (docs/admin.md's 4 x 4 unless
told). Clients are separate processes, each launch a new learner with a fresh cookie jar,
on a keep-alive connection (or one per request). Tool CPU is the gunicorn processes' user +
system time (/proc) over the measured launches, divided by the successful ones; latency is
one launch's tool round trips (signing excluded). The keyset is served by a process of its
own (capacity-lti fetches it once; PyLTI1p3 per launch, its default). --profile N then
times and cProfiles N launches in this process (tool side only). Prints figures and ratios;
nothing is asserted.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import os
import pstats
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask

from capacity_lti.settings import Settings
from capacity_lti.storage.platforms import add_platform
from capacity_lti.web import create_app
from capacity_lti.web.services import services
from launch_client import (
    CLIENT_ID,
    DEPLOYMENT_ID,
    KEY,
    Flow,
    Platform,
    bare_flow,
    capacity_flow,
    pem,
    run_client,
    serve_keyset,
)

BENCH = Path(__file__).resolve().parent
CLOCK = os.sysconf("SC_CLK_TCK")
KEYS = ["ours", "a", "a2", "b", "c"]


@dataclass(frozen=True)
class Tool:
    key: str  # for --only
    label: str
    app: str  # gunicorn's APP_MODULE
    flow: Callable[[str, Platform], Flow]
    env: dict[str, str]
    warmup: int = 10  # launches per client (and at least per worker) before measuring
    most: int | None = None  # at most this many measured launches (for a slow tool)


@dataclass(frozen=True)
class Result:
    tool: Tool
    clients: int
    failures: int
    first_error: str
    seconds: float
    cpu_seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def cpu_ms(self) -> float:
        return self.cpu_seconds * 1000 / max(1, len(self.latencies))

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies) or [float("nan")]
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def tree_cpu(root: int) -> float:
    """User + system seconds of `root` and its live children (gunicorn master + workers)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(entry.name) == root or int(fields[1]) == root:
            total += (int(fields[11]) + int(fields[12])) / CLOCK
    return total


@dataclass(frozen=True)
class Server:
    base: str
    pid: int  # gunicorn's master
    keepalive: bool
    workers: int


@contextmanager
def gunicorn(
    tool: Tool, workers: int, threads: int, keepalive: bool, log_path: Path
) -> Iterator[Server]:
    """Serve `tool.app` under gunicorn while the block runs (stderr to a log).

    The listening socket is made here and handed over (``fd://``), so no other server can
    take the port in between.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    fd = listener.fileno()
    command = [sys.executable, "-m", "gunicorn", "--chdir", str(BENCH)]
    command += ["--workers", str(workers), "--threads", str(threads)]
    command += ["--bind", f"fd://{fd}", "--log-level", "warning", tool.app]
    with log_path.open("w") as log, listener:  # the child keeps its own copies of both
        process = subprocess.Popen(
            command, env={**os.environ, **tool.env}, stderr=log, pass_fds=(fd,)
        )
        base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn for {tool.label} exited: {log_path.read_text()}")
            try:
                urllib.request.urlopen(base + "/nothing-here", timeout=1)
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(2)  # let every worker finish importing and building its app
        yield Server(base, process.pid, keepalive, workers)
    finally:
        process.terminate()
        process.wait(timeout=30)


def measure(
    tool: Tool, server: Server, platform: Platform, clients: int, n: int, module: str | None
) -> Result:
    """Warm up, then `n` launches shared by `clients` client processes started together.

    The warm-up opens a connection per request, so every gunicorn worker gets requests
    (imports, templates, caches, pools): the figures are a running tool's, not its start.
    """
    flow = replace(tool.flow(server.base, platform), keepalive=server.keepalive, module=module)
    pid = server.pid
    n = min(n, tool.most or n)
    warm = max(tool.warmup * clients, tool.warmup * server.workers)
    run_client(replace(flow, keepalive=False), "warm", warm, None, None)
    context = multiprocessing.get_context("fork")
    start, results = context.Event(), context.Queue()
    share = [n // clients + (i < n % clients) for i in range(clients)]
    procs = [
        context.Process(target=run_client, args=(flow, f"c{i}", k, start, results))
        for i, k in enumerate(share)
    ]
    for proc in procs:
        proc.start()
    time.sleep(0.5)
    cpu0, t0 = tree_cpu(pid), time.perf_counter()
    start.set()
    latencies: list[float] = []
    failures, first = 0, ""
    for _ in procs:
        some, failed, error = results.get()
        latencies += some
        failures += failed
        first = first or error
    seconds = time.perf_counter() - t0
    cpu = tree_cpu(pid) - cpu0
    for proc in procs:
        proc.join()
    return Result(tool, clients, failures, first, seconds, cpu, latencies)


def capacity_app(platform: Platform, instance: Path, database_url: str | None) -> Flask:
    """Our app with the platform registered (migrated and keyed once, before any worker)."""
    app = create_app(Settings(instance_path=instance, database_url=database_url))
    with app.app_context():
        add_platform(
            services().db,
            issuer=platform.issuer,
            client_id=CLIENT_ID,
            auth_login_url=platform.auth_url,
            auth_token_url=platform.auth_url + "/token",
            key_set_url=platform.keyset_url,
            deployment_ids=(DEPLOYMENT_ID,),
            name="Moodle (bench)",
        )
    return app


def tools(platform: Platform, folder: Path, database_url: str | None) -> list[Tool]:
    capacity_app(platform, folder / "instance", database_url)
    ours = {"CAPACITY_LTI_INSTANCE_PATH": str(folder / "instance")}
    if database_url:
        ours["CAPACITY_LTI_DATABASE_URL"] = database_url
    tool_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    theirs = {
        "BENCH_ISSUER": platform.issuer,
        "BENCH_CLIENT_ID": CLIENT_ID,
        "BENCH_DEPLOYMENT_ID": DEPLOYMENT_ID,
        "BENCH_AUTH_URL": platform.auth_url,
        "BENCH_KEYSET_URL": platform.keyset_url,
        "BENCH_TOOL_KEY": pem(tool_key),
        "BENCH_PLATFORM_PUBLIC_KEY": pem(KEY.public_key()),
        "BENCH_CACHE_DIR": str(folder / "flask-cache"),
    }
    return [
        Tool(
            "ours",
            "capacity-lti: launch + home page",
            "capacity_lti.web:create_app()",
            capacity_flow,
            ours,
        ),
        Tool(
            "a",
            "(a) PyLTI1p3, SimpleCache (docs)",
            "launch_apps:pylti('docs')",
            bare_flow,
            theirs,
        ),
        Tool(
            "a2",
            "(a') PyLTI1p3, FileSystemCache",
            "launch_apps:pylti('shared')",
            bare_flow,
            theirs,
            warmup=130,  # past 500 cache entries (4 a launch), where its steady state starts
            most=120,
        ),
        Tool(
            "b",
            "(b) PyLTI1p3, FileSystemCache t=0",
            "launch_apps:pylti('tuned')",
            bare_flow,
            theirs,
        ),
        Tool("c", "(c) floor: 2 responses + RS256", "launch_apps:floor()", bare_flow, theirs),
    ]


@contextmanager
def postgres_schema(wanted: bool) -> Iterator[str | None]:
    """None (SQLite), or a URL into a fresh schema of the test PostgreSQL, dropped after."""
    if not wanted:
        yield None
        return
    import psycopg

    url = os.environ.get(
        "CAPACITY_LTI_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    schema = f"bench_{os.getpid()}"
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def print_table(results: list[Result], counts: list[int]) -> None:
    print(
        f"{'tool':<36}{'clients':>8}{'launches':>9}{'launch/s':>10}{'CPU ms':>8}"
        f"{'p50 ms':>8}{'p99 ms':>8}"
    )
    for r in results:
        print(
            f"{r.tool.label:<36}{r.clients:>8}{len(r.latencies):>9}{r.per_second:>10.1f}"
            f"{r.cpu_ms:>8.2f}{r.percentile(50):>8.1f}{r.percentile(99):>8.1f}"
        )
        if r.failures:
            print(f"    {r.failures} launches failed (not counted), first: {r.first_error[:160]}")
    by = {(r.tool.key, r.clients): r for r in results}
    for c in counts:
        ours = by.get(("ours", c))
        others = [by[k, c] for k in KEYS[1:] if (k, c) in by]
        if ours is None or not others:
            continue
        print(f"\ncapacity-lti at {c} client(s):   launches/s ratio   CPU per launch: theirs/ours")
        for r in others:
            print(
                f"  vs {r.tool.label:<34}{ours.per_second / r.per_second:>7.2f}x"
                f"{r.cpu_ms / ours.cpu_ms:>14.2f}x"
            )
    if not any(key == "ours" for key, _ in by):
        return
    print("\ntargets (launches/s: >= 1.5x (b), >= 10x (a); p99 < 15 ms at 4 clients):")
    for c in counts:
        ours = by.get(("ours", c))
        for key, goal in (("b", 1.5), ("a", 10.0), ("a2", 10.0)):
            theirs = by.get((key, c))
            if ours is not None and theirs is not None:
                ratio = ours.per_second / theirs.per_second
                verdict = "met" if ratio >= goal else "NOT met"
                print(
                    f"  {c} client(s): {ratio:6.2f}x {theirs.tool.label[:4]:<5}"
                    f" (goal {goal}x) {verdict}"
                )
        if ours is not None and c == 4:
            p99 = ours.percentile(99)
            print(
                f"  4 clients: p99 {p99:.1f} ms (goal < 15 ms) {'met' if p99 < 15 else 'NOT met'}"
            )


class InProcess:
    """A Transport over Flask's test client, timing each request; profiling only the tool."""

    def __init__(self, app: Flask, profiler: cProfile.Profile | None = None) -> None:
        self.client = app.test_client()
        self.profiler = profiler
        self.times: list[tuple[str, float, float]] = []  # (request, CPU s, wall s)

    def request(
        self, method: str, url: str, form: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        cpu, wall = time.process_time(), time.perf_counter()
        if self.profiler is not None:
            self.profiler.enable()
        response = self.client.open(url, method=method, data=form)
        if self.profiler is not None:
            self.profiler.disable()
        path = urlsplit(url).path
        self.times.append((path, time.process_time() - cpu, time.perf_counter() - wall))
        return response.status_code, dict(response.headers.items()), response.get_data()


def profile(platform: Platform, folder: Path, n: int, module: str | None) -> None:
    """Time, then profile, `n` launches through the app in this process (tool side only)."""
    app = capacity_app(platform, folder / "profile", None)
    flow = replace(capacity_flow("http://localhost", platform), module=module)
    timed = InProcess(app)
    for i in range(n + 10):
        flow.launch(timed, f"timed-{i}")
    print(f"\n{n} in-process launches (Flask test client, SQLite), per request, mean:")
    steps: dict[str, list[tuple[float, float]]] = {}
    for path, cpu, wall in timed.times[30:]:
        steps.setdefault(path, []).append((cpu, wall))
    for path, samples in steps.items():
        cpu = statistics.fmean(c for c, _ in samples) * 1000
        wall = statistics.fmean(w for _, w in samples) * 1000
        print(f"  {path:<24} CPU {cpu:6.2f} ms   wall {wall:6.2f} ms")
    profiled = InProcess(app, cProfile.Profile())
    for i in range(n):
        flow.launch(profiled, f"profiled-{i}")
    print("\ncProfile of the same (its overhead inflates Python-heavy code):")
    assert profiled.profiler is not None
    stats = pstats.Stats(profiled.profiler, stream=sys.stdout).strip_dirs()
    stats.sort_stats("tottime").print_stats(20)
    stats.sort_stats("cumulative").print_stats(45)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=400, help="per tool and client count")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--workers", type=int, default=4, help="docs/admin.md: 4")
    parser.add_argument("--threads", type=int, default=4, help="docs/admin.md: 4")
    parser.add_argument("--postgres", action="store_true", help="capacity-lti on PostgreSQL")
    parser.add_argument("--only", nargs="+", choices=KEYS, help="tools to run (default: all)")
    parser.add_argument("--new-connections", action="store_true", help="one connection per request")
    parser.add_argument("--module", help="capacity-lti launches open this module, not the home")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="then profile N")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        serve_keyset() as platform,
        postgres_schema(args.postgres) as database_url,
    ):
        folder = Path(tmp)
        chosen = [t for t in tools(platform, folder, database_url) if t.key in (args.only or KEYS)]
        if args.module:
            chosen = [
                replace(t, label="capacity-lti: launch + module page") if t.key == "ours" else t
                for t in chosen
            ]
        print(
            f"gunicorn --workers {args.workers} --threads {args.threads} on {os.cpu_count()} "
            f"CPUs; {args.launches} launches per row (a': fewer); capacity-lti on "
            f"{'PostgreSQL' if database_url else 'SQLite'}; "
            f"{'a new connection per request' if args.new_connections else 'keep-alive'}; "
            f"load average before: {os.getloadavg()[0]:.1f}\n"
        )
        results = []
        for tool in chosen:
            keepalive = not args.new_connections
            log = folder / f"gunicorn-{tool.key}.log"
            with gunicorn(tool, args.workers, args.threads, keepalive, log) as server:
                for clients in args.clients:
                    result = measure(tool, server, platform, clients, args.launches, args.module)
                    results.append(result)
        print_table(results, args.clients)
        if args.profile:
            profile(platform, folder, args.profile, args.module)


if __name__ == "__main__":
    main()
