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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exec import Client, Daemon, throughput  # noqa: E402  (same folder)


def store_bench(warden, concurrency, calls):
    out = subprocess.run([warden, "quota", "bench", "--concurrency", str(concurrency), "--calls", str(calls), "--json"],
                         check=True, capture_output=True, text=True).stdout
    r = json.loads(out)
    r["amortised_us"] = 1e6 / r["calls_per_second"]
    return r


def measure(warden, port, tenants, clients, seconds, metering):
    """Throughput of one fresh daemon with metering on or off."""
    state = tempfile.mkdtemp(prefix="warden-quota-bench-")
    os.chmod(state, 0o755)
    d = Daemon(warden, state, port, ["--metering", "true" if metering else "false"])
    try:
        keys = [d.tenant_with_key(f"q{i}") for i in range(tenants)]
        warm = Client(port)
        for key in keys:
            warm.exec(key, "bash", "true")
        return throughput(port, keys, clients, seconds)
    finally:
        d.stop()
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
            runs[mode].append(measure(warden, a.port, a.tenants, a.clients, a.seconds, mode == "on"))
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
