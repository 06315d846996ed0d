#!/usr/bin/env python3
"""Metering benchmark: what reserve + settle cost, and exec throughput with
metering on vs off, side by side in one run.

  store       `warden quota bench`: reserve + settle of one exec call on a
              throwaway SQLite store, at concurrency 1 and 100: median and p99
              per call, calls/s, and the amortised cost (1 / calls per second)
  throughput  `bash true` over --tenants tenants from --clients threads,
              alternating a daemon with metering on and one with it off
              (--rounds each, --seconds per round): calls/s and p50, medians

Usage: scripts/bench/quota.py [--warden .build/release/warden] [--tenants 20]
       [--clients 16] [--seconds 8] [--rounds 3] [--json]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exec import Client, percentile, HOST  # noqa: E402  (same folder)
import http.client  # noqa: E402
import signal  # noqa: E402


def store_bench(warden, concurrency, calls):
    out = subprocess.run([warden, "quota", "bench", "--concurrency", str(concurrency), "--calls", str(calls), "--json"],
                         check=True, capture_output=True, text=True).stdout
    r = json.loads(out)
    r["amortised_us"] = 1e6 / r["calls_per_second"]
    return r


def start(warden, state, port, metering):
    log = open(os.path.join(state, "serve.log"), "w")
    proc = subprocess.Popen([warden, "serve", "--state-dir", state, "--port", str(port), "--log-level", "warning",
                             "--worker-idle", "3600", "--metering", "true" if metering else "false"],
                            stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection(HOST, port, timeout=2)
            c.request("GET", "/v1/health")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    raise SystemExit("warden serve did not come up; see " + os.path.join(state, "serve.log"))


def admin(warden, state, *args):
    out = subprocess.run([warden, *args, "--state-dir", state, "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def throughput(warden, port, tenants, clients, seconds, metering):
    state = tempfile.mkdtemp(prefix="warden-quota-bench-")
    os.chmod(state, 0o755)
    proc = start(warden, state, port, metering)
    try:
        keys = []
        for i in range(tenants):
            admin(warden, state, "tenant", "create", f"q{i}", "--plan", "pro")
            keys.append(admin(warden, state, "key", "issue", f"q{i}")["token"])
        warm = Client(port)
        for key in keys:
            warm.exec(key, "bash", "true")
        latencies, errors = [], []
        lock = threading.Lock()
        stop_at = time.time() + seconds

        def run(n):
            c = Client(port)
            i, mine = n, []
            while time.time() < stop_at:
                ns, status, body = c.exec(keys[i % len(keys)], "bash", "true")
                i += clients
                if status == 200:
                    mine.append(ns / 1e6)
                else:
                    with lock:
                        errors.append((status, body[:200]))
            with lock:
                latencies.extend(mine)

        t0 = time.time()
        threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.time() - t0
        return {"calls_per_second": len(latencies) / elapsed, "p50_ms": percentile(latencies, 50),
                "p99_ms": percentile(latencies, 99), "errors": len(errors),
                "first_error": str(errors[0]) if errors else None}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(state, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--warden", default=".build/release/warden")
    ap.add_argument("--tenants", type=int, default=20)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--store-calls", type=int, default=5000)
    ap.add_argument("--port", type=int, default=18490)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    warden = os.path.abspath(a.warden)
    out = {"load_before": os.getloadavg()[0]}
    out["store"] = {"concurrency_1": store_bench(warden, 1, a.store_calls),
                    "concurrency_100": store_bench(warden, 100, a.store_calls * 4)}
    runs = {"on": [], "off": []}
    for r in range(a.rounds):
        for mode in (["on", "off"] if r % 2 == 0 else ["off", "on"]):
            runs[mode].append(throughput(warden, a.port, a.tenants, a.clients, a.seconds, mode == "on"))
    out["throughput"] = {mode: {"calls_per_second_median": statistics.median(x["calls_per_second"] for x in rs),
                                "p50_ms_median": statistics.median(x["p50_ms"] for x in rs),
                                "p99_ms_median": statistics.median(x["p99_ms"] for x in rs),
                                "errors": sum(x["errors"] for x in rs),
                                "first_error": next((x["first_error"] for x in rs if x["first_error"]), None)}
                         for mode, rs in runs.items()}
    out["load_after"] = os.getloadavg()[0]
    if a.json:
        print(json.dumps(out, indent=2))
        return
    for name, s in out["store"].items():
        print(f"reserve+settle, {name.replace('_', ' ')}: median {s['median_us']} µs, p99 {s['p99_us']} µs, "
              f"{s['calls_per_second']} calls/s (amortised {s['amortised_us']:.0f} µs per call)")
    on, off = out["throughput"]["on"], out["throughput"]["off"]
    print(f"exec bash true, {a.tenants} tenants, {a.clients} clients, {a.rounds} rounds of {a.seconds:.0f} s each way:")
    print(f"  metering on : {on['calls_per_second_median']:.0f} calls/s, p50 {on['p50_ms_median']:.1f} ms, "
          f"p99 {on['p99_ms_median']:.1f} ms, errors {on['errors']}")
    print(f"  metering off: {off['calls_per_second_median']:.0f} calls/s, p50 {off['p50_ms_median']:.1f} ms, "
          f"p99 {off['p99_ms_median']:.1f} ms, errors {off['errors']}")
    print(f"  on/off throughput ratio {on['calls_per_second_median'] / off['calls_per_second_median']:.3f}")
    print(f"load average before {out['load_before']:.1f}, after {out['load_after']:.1f}")


if __name__ == "__main__":
    sys.exit(main())
