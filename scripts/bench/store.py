#!/usr/bin/env python3
"""Store benchmark: reserve + settle of one exec call (`warden quota bench`)
on SQLite and on PostgreSQL, side by side in one run.

Each round runs every (back end, concurrency) pair once, in a new order each
round, on a fresh store: a throwaway SQLite file, or a new database in the
PostgreSQL cluster. The table shows, per pair, the medians over the rounds of
each run's median and p99 per call and of its calls per second.

PostgreSQL is the throwaway cluster of scripts/postgres.sh (started here and
stopped after, unless one is running already), or --postgres URL (a server
where this may create and drop databases named warden_bench_*).

Usage: scripts/bench/store.py [--warden .build/release/warden] [--rounds 3]
       [--calls 2000] [--postgres URL] [--json]
"""
import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
POSTGRES_SH = os.path.join(ROOT, "scripts", "postgres.sh")


@contextlib.contextmanager
def postgres_server(url=None):
    """`url`, or the cluster of scripts/postgres.sh: started for the block (and
    stopped after it) unless it is running already."""
    if url:
        yield url
        return
    running = subprocess.run([POSTGRES_SH, "env"], capture_output=True, text=True).returncode == 0
    url = subprocess.run([POSTGRES_SH, "start"], check=True, capture_output=True, text=True).stdout.strip()
    try:
        yield url
    finally:
        if not running:
            subprocess.run([POSTGRES_SH, "stop"], check=False)


def psql(url, sql):
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True, capture_output=True)


def with_database(url, name):
    """The connection string `url` aimed at database `name` (a libpq keyword overrides the URI's)."""
    return f"{url} dbname={name}" if "=" in url and "://" not in url else url.rsplit("/", 1)[0] + "/" + name


def bench(warden, store, concurrency, calls):
    out = subprocess.run([warden, "quota", "bench", "--store", store, "--concurrency", str(concurrency),
                          "--calls", str(calls), "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def one_run(warden, backend, concurrency, calls, postgres):
    if backend == "sqlite":
        return bench(warden, "sqlite", concurrency, calls)
    name = f"warden_bench_{os.getpid()}_{random.randrange(1 << 30)}"
    psql(postgres, f"CREATE DATABASE {name}")
    try:
        return bench(warden, with_database(postgres, name), concurrency, calls)
    finally:
        psql(postgres, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--warden", default=os.path.join(ROOT, ".build/release/warden"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calls", type=int, default=2000, help="calls per run at concurrency 1 (x4 at 100)")
    ap.add_argument("--postgres", help="PostgreSQL connection string (default: scripts/postgres.sh's cluster)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    random.seed(a.seed)
    warden = os.path.abspath(a.warden)

    with postgres_server(a.postgres) as postgres:
        pairs = [(b, c) for b in ("sqlite", "postgresql") for c in (1, 100)]
        runs = {p: [] for p in pairs}
        load_before = os.getloadavg()[0]
        for _ in range(a.rounds):
            random.shuffle(pairs)
            for backend, concurrency in pairs:
                calls = a.calls * (4 if concurrency > 1 else 1)
                runs[(backend, concurrency)].append(one_run(warden, backend, concurrency, calls, postgres))
        load_after = os.getloadavg()[0]

    rows = []
    for (backend, concurrency), rs in sorted(runs.items(), key=lambda kv: (kv[0][1], kv[0][0] != "sqlite")):
        rows.append({"backend": backend, "concurrency": concurrency, "runs": len(rs), "calls_per_run": rs[0]["calls"],
                     "median_us": statistics.median(r["median_us"] for r in rs),
                     "p99_us": statistics.median(r["p99_us"] for r in rs),
                     "calls_per_second": statistics.median(r["calls_per_second"] for r in rs)})
    if a.json:
        print(json.dumps({"rows": rows, "load_before": load_before, "load_after": load_after}, indent=2))
        return
    print(f"reserve + settle per call, medians of {a.rounds} rounds (load {load_before:.1f} before, {load_after:.1f} after)")
    print(f"{'back end':<11} {'concurrency':>11} {'median µs':>10} {'p99 µs':>9} {'calls/s':>9}")
    for r in rows:
        print(f"{r['backend']:<11} {r['concurrency']:>11} {r['median_us']:>10.1f} {r['p99_us']:>9.1f} {r['calls_per_second']:>9.0f}")
    by = {(r["backend"], r["concurrency"]): r for r in rows}
    for c in (1, 100):
        s, p = by[("sqlite", c)], by[("postgresql", c)]
        print(f"concurrency {c}: PostgreSQL/SQLite median {p['median_us'] / s['median_us']:.1f}x, "
              f"throughput {p['calls_per_second'] / s['calls_per_second']:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
