"""Portfolio runs: many organisations on the fake Graph, at 1, 4 and 8 workers; and the
store's write throughput on PostgreSQL against SQLite.

Each organisation is a generated Microsoft 365 tenant (``--people`` users, default 2,000)
on its own fake Graph server over TLS on loopback, with a fixed latency per request and
its own token-bucket rate limit answering 429 + Retry-After above it — as each real
tenant has its own throttling budget. All fakes run in one child process, so their JSON
and TLS work does not compete with the parent. ``sprawl-audit portfolio run`` then audits
them all into one SQLite store at each worker count.

Printed per worker count: wall time; the lower bound max(total work ÷ workers, slowest
organisation), where *total work* and *slowest* are the per-organisation wall times
measured at one worker; wall ÷ bound; and the CPU bound (the CPU this machine spent
during the run, less the fake tenants' own, ÷ its cores — audits, the portfolio, its fork
server and a database server on the same machine), which on a small machine can bind
before the tenants' limits do. Run it on an otherwise idle machine. The
target (issue #19): at 8 workers within 1.5× of the lower bound (of the CPU bound too,
when that is the larger).

The store part writes ``--writes`` Results from 1 and 4 processes into SQLite and into a
throwaway PostgreSQL cluster (when the server is installed) and prints Results per second.
Nothing is asserted; numbers go in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DESCRIPTION = "portfolio run: N organisations on throttled fakes at 1/4/8 workers; store writes"
TESTS = Path(__file__).resolve().parents[1] / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))
TARGET = 1.5


def _serve(conn: Any, orgs: int, people: int, latency: float, rate: float) -> None:
    """Child process: one fake Graph per organisation."""
    from fakes.graph import FakeGraph, generate_tenant
    from fakes.server import tls_pair

    _ca, cert, ca_path = tls_pair()
    fakes = []
    for i in range(orgs):
        tenant = generate_tenant(users=people, devices=people // 3,
                                 service_principals=40, teams=20, seed=100 + i)
        fakes.append(FakeGraph(tenant, tls=(cert, ca_path), client_secret=f"secret-{i}",
                               latency=latency, rate_per_second=rate).start())
    conn.send([f.settings(secret_env="SPRAWL_M365_SECRET") for f in fakes])
    conn.recv()  # quit
    for f in fakes:
        f.stop(wait=False)
    conn.send("bye")


def _portfolio(folder: Path, settings: list[dict[str, Any]]) -> Path:
    import yaml

    orgs = [{"name": f"Org {i:02d}",
             "config": {"organisation": {"name": f"Org {i:02d}"},
                        "connectors": {"m365": s}},
             "secrets": {"SPRAWL_M365_SECRET": {"env": f"ORG_{i:02d}_SECRET"}}}
            for i, s in enumerate(settings)]
    path = folder / "portfolio.yaml"
    path.write_text(yaml.safe_dump({"organisations": orgs}, sort_keys=False))
    return path


def _process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system, all threads) a live process has used so far — the
    fakes' process, which the children's rusage cannot see; 0 off Linux."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_cpu() -> float:
    """CPU seconds every process on this machine has used (user + system, /proc/stat):
    the audits forked from the portfolio's fork server are no child this process can
    wait for, so their CPU is counted here; 0 off Linux."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _run(portfolio: Path, workers: int, folder: Path, orgs: int,
         store: str | None = None, fakes_pid: int | None = None,
         extra: tuple[str, ...] = ()) -> dict[str, Any]:
    env = {**os.environ, **{f"ORG_{i:02d}_SECRET": f"secret-{i}" for i in range(orgs)}}
    out = folder / f"out-{workers}"
    fakes_before, machine_before = _process_cpu(fakes_pid), _machine_cpu()
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sprawl_audit", "portfolio", "run",
                           str(portfolio), "--workers", str(workers), "--output-dir", str(out),
                           "--store", store or f"sqlite:///{folder}/store-{workers}.sqlite",
                           "-q", *extra],
                          capture_output=True, text=True, env=env, timeout=7200)
    wall = time.perf_counter() - started
    fakes_cpu = _process_cpu(fakes_pid) - fakes_before
    cpu = _machine_cpu() - machine_before - fakes_cpu
    if not (out / "portfolio-run.json").exists():
        raise SystemExit(f"portfolio run exited {proc.returncode} without its summary:\n"
                         f"{proc.stderr[-3000:]}")
    summary = json.loads((out / "portfolio-run.json").read_text())
    seconds = [o["seconds"] for o in summary["organisations"]]
    statuses = [o["status"] for o in summary["organisations"]]
    return {"workers": workers, "wall": wall, "exit": proc.returncode, "seconds": seconds,
            "failed": sum(s in ("failed", "error") for s in statuses), "fakes_cpu": fakes_cpu,
            "cpu": cpu}


def _fresh_database(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    return server.rsplit("/", 1)[0] + f"/{name}"


def _recorded(url: str) -> tuple[int, int]:
    """(runs, distinct (organisation, run id)) — a superuser sees every organisation."""
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*), count(DISTINCT (organisation, run_id)) "
                           "FROM runs").fetchone()
    return int(row[0]), int(row[1])


def _store_throughput(writes: int, url: str, processes: int, folder: Path) -> float:
    script = (
        "import json, sys\n"
        "from sprawl_audit.store.backend import open_store\n"
        "url, src, tag, n = sys.argv[1:5]\n"
        "doc = json.loads(open(src).read()); store = open_store(url)\n"
        "for i in range(int(n)):\n"
        "    doc['run']['id'] = f'{tag}-{i}'; store.store(doc)\n")
    source = folder / "result.json"
    if not source.exists():
        subprocess.run([sys.executable, "-m", "sprawl_audit", "demo", "-q", "-f", "json",
                        "-o", str(source)], check=False, timeout=600)
    from sprawl_audit.store.backend import open_store

    open_store(url).prepare()
    per = max(1, writes // processes)
    started = time.perf_counter()
    stamp = time.time()
    procs = [subprocess.Popen([sys.executable, "-c", script, url, str(source),
                               f"p{p}-{stamp}", str(per)]) for p in range(processes)]
    for p in procs:
        p.wait(timeout=3600)
    return per * processes / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    import multiprocessing

    parser = argparse.ArgumentParser(prog="python -m bench portfolio", description=DESCRIPTION)
    parser.add_argument("--quick", action="store_true", help="8 organisations of 300 people")
    parser.add_argument("--orgs", type=int, default=50)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--workers", type=lambda s: [int(x) for x in s.split(",")],
                        default=[1, 4, 8])
    parser.add_argument("--latency", type=float, default=0.05,
                        help="seconds per request on every fake (default 0.05)")
    parser.add_argument("--rate", type=float, default=20.0,
                        help="requests per second each tenant allows (default 20)")
    parser.add_argument("--writes", type=int, default=200, help="Results per store test")
    parser.add_argument("--postgres", action="store_true",
                        help="record the runs in a throwaway PostgreSQL cluster (one fresh "
                             "database per worker count) and count them: every run once")
    parser.add_argument("--fresh-processes", action="store_true",
                        help="start each audit as a new interpreter (portfolio run "
                             "--fresh-processes) instead of forking it from the warm server")
    parser.add_argument("--baseline", type=float, nargs=2, metavar=("TOTAL", "SLOWEST"),
                        help="total work and slowest organisation (seconds) from an earlier "
                             "one-worker run, when this run has no one-worker row")
    args = parser.parse_args(argv)
    if args.quick:
        args.orgs, args.people, args.workers, args.writes = 8, 300, [1, 4], 40

    ctx = multiprocessing.get_context("fork")
    conn, child = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(child, args.orgs, args.people, args.latency,
                                              args.rate), daemon=True)
    server.start()
    settings = conn.recv()
    cores = os.cpu_count() or 1
    rows = []
    with tempfile.TemporaryDirectory(prefix="sprawl-portfolio-bench-") as tmp:
        folder = Path(tmp)
        portfolio = _portfolio(folder, settings)
        cluster = None
        if args.postgres:
            from pg_server import start_cluster

            cluster = start_cluster()
        for workers in args.workers:
            store = None
            if cluster:
                store = _fresh_database(cluster[0], f"portfolio_{workers}")
            row = _run(portfolio, workers, folder, args.orgs, store, server.pid,
                       ("--fresh-processes",) if args.fresh_processes else ())
            if store:
                row["recorded"] = _recorded(store)
                print(f"PostgreSQL: {row['recorded'][0]} runs recorded, "
                      f"{row['recorded'][1]} distinct (organisation, run id), "
                      f"{args.orgs} organisations", flush=True)
            rows.append(row)
            print(f"workers {workers}: {row['wall']:.1f} s wall, {row['cpu']:.1f} s CPU "
                  f"(the fake tenants {row['fakes_cpu']:.1f} s more), {row['failed']} "
                  f"failed, exit {row['exit']}", flush=True)
        conn.send("quit")
        conn.recv()
        if cluster:
            cluster[1]()
        base = next((r for r in rows if r["workers"] == 1), rows[0])
        total, slowest = sum(base["seconds"]), max(base["seconds"])
        if args.baseline and not any(r["workers"] == 1 for r in rows):
            total, slowest = args.baseline
        print()
        print(f"{args.orgs} organisations × {args.people:,} people; fake latency "
              f"{args.latency * 1000:.0f} ms, {args.rate:g} requests/s per tenant; "
              f"{cores} cores")
        print(f"per organisation at 1 worker: total work {total:.1f} s, slowest "
              f"{slowest:.1f} s")
        print(f"{'workers':>7} {'wall':>8} {'bound':>8} {'÷bound':>7} {'cpu bound':>9} {'÷max':>6}")
        ok = True
        for r in rows:
            bound = max(total / r["workers"], slowest)
            cpu_bound = r["cpu"] / min(cores, r["workers"])
            limit = max(bound, cpu_bound)
            print(f"{r['workers']:>7} {r['wall']:>7.1f}s {bound:>7.1f}s "
                  f"{r['wall'] / bound:>6.2f}× {cpu_bound:>8.1f}s {r['wall'] / limit:>5.2f}×")
            if r["workers"] == max(args.workers):
                met = r["wall"] <= TARGET * limit
                ok = ok and met and r["failed"] == 0 and r.get("recorded", (args.orgs,
                                                                             args.orgs)) == (
                    args.orgs, args.orgs)
                print(f"{r['workers']} workers: {r['wall'] / bound:.2f}× the tenants' lower "
                      f"bound, {r['wall'] / limit:.2f}× the larger of it and the CPU bound "
                      f"(target ≤ {TARGET}×) {'met' if met else 'MISSED'}")
        print()
        sqlite_url = f"sqlite:///{folder}/throughput.sqlite"
        for processes in (1, 4):
            rate = _store_throughput(args.writes, sqlite_url, processes, folder)
            print(f"store writes, SQLite, {processes} process(es): {rate:.1f} Results/s")
        try:
            from pg_server import Unavailable, start_cluster

            url, stop = start_cluster()
        except Exception as exc:
            print(f"store writes, PostgreSQL: skipped ({exc})")
        else:
            try:
                for processes in (1, 4):
                    rate = _store_throughput(args.writes, url, processes, folder)
                    print(f"store writes, PostgreSQL, {processes} process(es): "
                          f"{rate:.1f} Results/s")
            finally:
                stop()
            del Unavailable
    return 0 if ok or args.quick else 1


if __name__ == "__main__":
    sys.exit(main())
