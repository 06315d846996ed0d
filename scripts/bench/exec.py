#!/usr/bin/env python3
"""Supervisor benchmark: POST /v1/exec against bare interpreters, side by side.

Starts `warden serve` on a temporary state directory (loopback only), creates
tenants and keys through the admin CLI, then measures in one run:

  overhead    python `pass` through a warm worker vs bare `python3 -c pass`
              (shuffled, alternating), medians and the difference; with
              --baseline, an earlier build's daemon is measured in the same rounds
  cold        first call of a fresh tenant (worker start + call)
  throughput  `true` in bash spread over --tenants tenants from --clients
              client threads for --seconds: calls/s, p50, p99
  memory      Pss (shared pages counted once) of each idle worker's processes
              (the worker, the jail it keeps armed, its tenant jail's init)
              and of the supervisor, from /proc/PID/smaps_rollup

Usage: scripts/bench/exec.py [--warden .build/release/warden] [--tenants 100]
       [--clients 16] [--seconds 15] [--rounds 200] [--idle-tenants 1000] [--json]
       [--baseline /path/to/earlier/warden]
"""
import argparse
import http.client
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HOST = "127.0.0.1"


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


class Daemon:
    def __init__(self, warden, state, port, extra_args=()):
        self.warden, self.state, self.port = warden, state, port
        self.proc = subprocess.Popen(
            [warden, "serve", "--state-dir", state, "--port", str(port), "--log-level", "warning",
             "--worker-idle", "3600", "--exec-max-timeout-ms", "60000", *extra_args],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(state, "serve.log"), "w"))
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                c = http.client.HTTPConnection(HOST, port, timeout=2)
                c.request("GET", "/v1/health")
                if c.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("warden serve did not come up; see " + os.path.join(state, "serve.log"))

    def admin(self, *args):
        out = subprocess.run([self.warden, *args, "--state-dir", self.state, "--json"],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out)

    def tenant_with_key(self, name):
        # pro: its quotas leave room for a benchmark's thousands of calls.
        self.admin("tenant", "create", name, "--plan", "pro")
        return self.admin("key", "issue", name)["token"]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Client:
    """One keep-alive connection."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection(HOST, port, timeout=120)

    def exec(self, key, language, code):
        body = json.dumps({"language": language, "code": code})
        for attempt in range(2):
            try:
                t0 = time.perf_counter_ns()
                self.conn.request("POST", "/v1/exec", body=body,
                                  headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
                r = self.conn.getresponse()
                data = r.read()
                return time.perf_counter_ns() - t0, r.status, data
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=120)
        raise RuntimeError("connection failed twice")


def throughput(port, keys, clients, seconds):
    """`bash true` spread over `keys` from `clients` threads for `seconds`."""
    return run_clients(lambda n, i: (port, keys[(n + i * clients) % len(keys)]), clients, seconds)


def run_clients(target, clients, seconds):
    """`bash true` from `clients` threads for `seconds`; `target(n, i)` gives the
    (port, key) of client n's i-th call. Keep-alive connections, one per port and client."""
    latencies, errors = [], []
    lock = threading.Lock()
    stop_at = time.time() + seconds

    def run(n):
        connections, mine, i = {}, [], 0
        while time.time() < stop_at:
            port, key = target(n, i)
            c = connections.setdefault(port, Client(port))
            ns, status, body = c.exec(key, "bash", "true")
            i += 1
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
    return {"calls": len(latencies), "errors": len(errors), "calls_per_second": len(latencies) / elapsed,
            "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99),
            "first_error": str(errors[0]) if errors else None}


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        return 0
    return 0


def parent_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def processes_named(fragment):
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                if fragment.encode() in f.read():
                    pids.append(int(p))
        except OSError:
            pass
    return pids


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--warden", default=".build/release/warden")
    ap.add_argument("--tenants", type=int, default=100)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--idle-tenants", type=int, default=1000)
    ap.add_argument("--port", type=int, default=18480)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--baseline", help="an earlier build of warden (its warden-worker beside it), "
                    "measured in the same overhead rounds")
    a = ap.parse_args()
    warden = os.path.abspath(a.warden)
    state = tempfile.mkdtemp(prefix="warden-bench-")
    os.chmod(state, 0o755)
    d = Daemon(warden, state, a.port)
    base, base_state = None, None
    if a.baseline:
        base_state = tempfile.mkdtemp(prefix="warden-bench-base-")
        os.chmod(base_state, 0o755)
        base = Daemon(os.path.abspath(a.baseline), base_state, a.port + 1)
    out = {"load_before": os.getloadavg()[0]}
    try:
        keys = [d.tenant_with_key(f"bench{i}") for i in range(a.tenants)]
        client = Client(a.port)

        # Cold: the first call of each of 10 fresh tenants.
        cold = []
        for key in keys[:10]:
            ns, status, body = client.exec(key, "bash", "true")
            assert status == 200, body
            cold.append(ns / 1e6)
        out["cold_first_call_ms"] = {"median": statistics.median(cold), "max": max(cold)}

        # Overhead: warm worker vs bare python3 (and the baseline's warm worker),
        # alternating in random order.
        key = keys[0]
        runners = {"exec": (client, key)}
        if base:
            base_client = Client(a.port + 1)
            runners["baseline"] = (base_client, base.tenant_with_key("base"))
        times = {"bare": [], "exec": [], "baseline": []}
        for _ in range(3):  # warm the workers
            for c, k in runners.values():
                c.exec(k, "python", "pass")
        for _ in range(a.rounds):
            order = ["bare"] + list(runners)
            random.shuffle(order)
            for which in order:
                if which == "bare":
                    t0 = time.perf_counter_ns()
                    subprocess.run(["/usr/bin/python3", "-c", "pass"], check=True)
                    times["bare"].append((time.perf_counter_ns() - t0) / 1e6)
                else:
                    c, k = runners[which]
                    ns, status, body = c.exec(k, "python", "pass")
                    assert status == 200, body
                    times[which].append(ns / 1e6)
        bare, through = times["bare"], times["exec"]
        out["overhead"] = {"bare_python_median_ms": statistics.median(bare),
                           "exec_python_median_ms": statistics.median(through),
                           "overhead_median_ms": statistics.median(through) - statistics.median(bare),
                           "exec_python_p99_ms": percentile(through, 99)}
        if base:
            out["overhead"]["baseline_exec_python_median_ms"] = statistics.median(times["baseline"])
            out["overhead"]["baseline_overhead_median_ms"] = statistics.median(times["baseline"]) - statistics.median(bare)
            base.stop()
            base = None

        # Throughput: `true` spread over every tenant.
        for key in keys:  # warm every worker first
            client.exec(key, "bash", "true")
        t = throughput(a.port, keys, a.clients, a.seconds)
        out["throughput"] = {"tenants": a.tenants, "clients": a.clients, **t}

        # Memory: every worker is idle now.
        time.sleep(1)
        # This daemon's workers only: each one's parent is its jail's init (a
        # small copy of the supervisor's image), whose parent is the supervisor.
        named = processes_named("/opt/warden/warden-worker")
        pairs = [(p, parent_of(p)) for p in named]
        pairs = [(p, init) for p, init in pairs if init and parent_of(init) == d.proc.pid]
        # A worker that has run a call keeps the next call's jail armed: that
        # jail's init is a copy of the worker (same command line), its child.
        armed = {}
        for p in named:
            armed.setdefault(parent_of(p), []).append(p)
        per_worker = [pss_kb(p) + sum(pss_kb(c) for c in armed.get(p, [])) for p, _ in pairs]
        armed_count = sum(1 for p, _ in pairs if armed.get(p))
        per_init = [pss_kb(init) for _, init in pairs]
        workers = pairs
        # The supervisor's cgroup janitor (one per daemon, as root).
        janitors = [p for p in processes_named("warden cgroup janitor") if parent_of(p) == d.proc.pid]
        out["memory"] = {"idle_workers": len(workers), "workers_with_armed_jail": armed_count,
                         "janitor_pss_kb": sum(pss_kb(p) for p in janitors),
                         "worker_pss_median_kb": statistics.median(per_worker) if per_worker else None,
                         "jail_init_pss_median_kb": statistics.median(per_init) if per_init else None,
                         "supervisor_pss_kb_with_workers": pss_kb(d.proc.pid)}
        # The supervisor with many tenants in the store.
        for i in range(a.tenants, a.idle_tenants):
            d.admin("tenant", "create", f"bench{i}")
        out["memory"]["tenants"] = a.idle_tenants
        out["memory"]["supervisor_pss_kb"] = pss_kb(d.proc.pid)
    finally:
        d.stop()
        shutil.rmtree(state, ignore_errors=True)
        if base:
            base.stop()
        if base_state:
            shutil.rmtree(base_state, ignore_errors=True)
    out["load_after"] = os.getloadavg()[0]
    if a.json:
        print(json.dumps(out, indent=2))
        return
    o, t, m, c = out["overhead"], out["throughput"], out["memory"], out["cold_first_call_ms"]
    print(f"exec python pass: median {o['exec_python_median_ms']:.2f} ms (p99 {o['exec_python_p99_ms']:.2f}), "
          f"bare python3 {o['bare_python_median_ms']:.2f} ms -> overhead {o['overhead_median_ms']:.2f} ms")
    if "baseline_exec_python_median_ms" in o:
        print(f"baseline ({a.baseline}) exec python pass: median {o['baseline_exec_python_median_ms']:.2f} ms "
              f"-> overhead {o['baseline_overhead_median_ms']:.2f} ms (same rounds)")
    print(f"cold first call: median {c['median']:.1f} ms, max {c['max']:.1f} ms")
    print(f"throughput bash true over {t['tenants']} tenants, {t['clients']} clients: "
          f"{t['calls_per_second']:.0f} calls/s, p50 {t['p50_ms']:.1f} ms, p99 {t['p99_ms']:.1f} ms, errors {t['errors']}")
    print(f"idle worker Pss median {m['worker_pss_median_kb']} kB with its armed jail ({m['workers_with_armed_jail']} armed)"
          f" (+ jail init {m['jail_init_pss_median_kb']} kB) "
          f"over {m['idle_workers']} workers; supervisor Pss {m['supervisor_pss_kb_with_workers']} kB with them "
          f"(+ cgroup janitor {m['janitor_pss_kb']} kB), "
          f"{m['supervisor_pss_kb']} kB with {m['tenants']} tenants")
    print(f"load average before {out['load_before']:.1f}, after {out['load_after']:.1f}")


if __name__ == "__main__":
    sys.exit(main())
