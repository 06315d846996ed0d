#!/usr/bin/env python3
"""Nodes benchmark: exec calls per second with one node and with three nodes
on one PostgreSQL, side by side in one run, and what a forwarded call costs.

  one           one `warden serve` on the store; --clients threads call
                `bash true` round-robin over --tenants tenants
  three         three nodes on one store (another database of the same
                server); tenant i's lease is placed on node i % 3 by its first
                call; each client sends its calls round-robin over the nodes
                too, so two calls in three reach a node that forwards them
  three-direct  the same three nodes, each call sent to its tenant's holder
  forward       one warm tenant: `bash true` sent to its holder and to another
                node, alternating in shuffled pairs; medians and the difference

Each round runs one, three and three-direct in a new order for --seconds each;
the table shows medians over the rounds. Every node runs on this machine:
they share its cores, so three nodes measure the cost of spreading tenants
and forwarding, not a gain in CPU.

PostgreSQL is the throwaway cluster of scripts/postgres.sh (started here and
stopped after, unless one is running already), or --postgres URL (a server
where this may create and drop databases named warden_bench_nodes_*).

Usage: scripts/bench/nodes.py [--warden .build/release/warden] [--tenants 12]
       [--clients 12] [--seconds 8] [--rounds 3] [--pairs 300] [--json]
"""
import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exec import Client, Daemon, percentile, run_clients  # noqa: E402  (same folder)
from store import postgres_server, psql, with_database  # noqa: E402

MODES = ("one", "three", "three-direct")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """`count` nodes on one database, each with its own state directory and port."""

    def __init__(self, warden, store, count, tag):
        self.dirs, self.nodes = [], []
        for i in range(count):
            state = tempfile.mkdtemp(prefix=f"warden-nodes-bench-{tag}{i}-")
            os.chmod(state, 0o755)
            self.dirs.append(state)
            self.nodes.append(Daemon(warden, state, free_port(),
                                     ["--store", store, "--node-id", f"{tag}-{i + 1}"]))

    def leases(self):
        return {l["tenant_id"]: l["node_id"] for l in self.nodes[0].admin("nodes", "leases")["leases"]}

    def stop(self):
        for d in self.nodes:
            d.stop()
        for state in self.dirs:
            shutil.rmtree(state, ignore_errors=True)


def forward_pairs(cluster, key, holder, pairs):
    """One warm tenant: a call to its holder and one to another node, in shuffled order, `pairs` times."""
    ports = {"holder": cluster.nodes[holder].port, "forwarded": cluster.nodes[(holder + 1) % 3].port}
    clients = {name: Client(port) for name, port in ports.items()}
    samples = {name: [] for name in ports}
    for name in ports:
        for _ in range(20):  # warm both paths
            clients[name].exec(key, "bash", "true")
    for _ in range(pairs):
        order = list(ports)
        random.shuffle(order)
        for name in order:
            ns, status, body = clients[name].exec(key, "bash", "true")
            if status != 200:
                raise SystemExit(f"forwarded-call measurement failed: {status} {body[:200]!r}")
            samples[name].append(ns / 1e6)
    return {name: {"median_ms": statistics.median(v), "p90_ms": percentile(v, 90)} for name, v in samples.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--warden", default=".build/release/warden")
    ap.add_argument("--tenants", type=int, default=12)
    ap.add_argument("--clients", type=int, default=12)
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pairs", type=int, default=300)
    ap.add_argument("--postgres", help="PostgreSQL connection string (default: scripts/postgres.sh's cluster)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    random.seed(a.seed)
    warden = os.path.abspath(a.warden)

    databases = [f"warden_bench_nodes_{os.getpid()}_{n}" for n in (1, 3)]
    clusters = {}
    with postgres_server(a.postgres) as postgres:
        try:
            for name in databases:
                psql(postgres, f"CREATE DATABASE {name}")
            clusters["one"] = Cluster(warden, with_database(postgres, databases[0]), 1, "solo")
            clusters["three"] = Cluster(warden, with_database(postgres, databases[1]), 3, "node")
            keys = {}
            for mode in ("one", "three"):
                c = clusters[mode]
                keys[mode] = [c.nodes[0].tenant_with_key(f"b{i}") for i in range(a.tenants)]
                # Each tenant's first call places its lease (on node i % 3 in the cluster).
                for i, key in enumerate(keys[mode]):
                    Client(c.nodes[i % len(c.nodes)].port).exec(key, "bash", "true")
            leases = clusters["three"].leases()
            names = [f"node-{i + 1}" for i in range(3)]
            tenant_ids = [clusters["three"].nodes[0].admin("tenant", "show", f"b{i}")["id"] for i in range(a.tenants)]
            holder_of = [names.index(leases[t]) for t in tenant_ids]
            one_port = clusters["one"].nodes[0].port
            three_ports = [d.port for d in clusters["three"].nodes]

            targets = {
                "one": lambda n, i: (one_port, keys["one"][(n + i) % a.tenants]),
                "three": lambda n, i: (three_ports[(n + i // a.tenants) % 3], keys["three"][(n + i) % a.tenants]),
                "three-direct": lambda n, i: (three_ports[holder_of[(n + i) % a.tenants]], keys["three"][(n + i) % a.tenants]),
            }
            runs = {m: [] for m in MODES}
            load_before = os.getloadavg()[0]
            for _ in range(a.rounds):
                order = list(MODES)
                random.shuffle(order)
                for mode in order:
                    runs[mode].append(run_clients(targets[mode], a.clients, a.seconds))
            forward = forward_pairs(clusters["three"], keys["three"][0], holder_of[0], a.pairs)
            load_after = os.getloadavg()[0]
        finally:
            for c in clusters.values():
                c.stop()
            for name in databases:
                try:
                    psql(postgres, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                except subprocess.CalledProcessError:
                    pass

    rows = [{"mode": m, "rounds": len(rs), "calls_per_second": statistics.median(r["calls_per_second"] for r in rs),
             "p50_ms": statistics.median(r["p50_ms"] for r in rs), "p99_ms": statistics.median(r["p99_ms"] for r in rs),
             "errors": sum(r["errors"] for r in rs), "first_error": next((r["first_error"] for r in rs if r["first_error"]), None)}
            for m, rs in runs.items()]
    extra = forward["forwarded"]["median_ms"] - forward["holder"]["median_ms"]
    if a.json:
        print(json.dumps({"rows": rows, "forward": forward, "forward_extra_ms": extra, "tenants": a.tenants,
                          "clients": a.clients, "seconds": a.seconds, "load_before": load_before,
                          "load_after": load_after}, indent=2))
        return
    print(f"exec `bash true`, {a.tenants} tenants, {a.clients} clients, {a.seconds:g} s a run, medians of {a.rounds} rounds "
          f"(load {load_before:.1f} before, {load_after:.1f} after)")
    print(f"{'mode':<13} {'calls/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for r in rows:
        print(f"{r['mode']:<13} {r['calls_per_second']:>8.0f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['errors']:>7}")
    by = {r["mode"]: r for r in rows}
    print(f"three/one throughput {by['three']['calls_per_second'] / by['one']['calls_per_second']:.2f}x, "
          f"three-direct/one {by['three-direct']['calls_per_second'] / by['one']['calls_per_second']:.2f}x")
    print(f"one call, {a.pairs} shuffled pairs: to the holder {forward['holder']['median_ms']:.2f} ms median "
          f"(p90 {forward['holder']['p90_ms']:.2f}), through another node {forward['forwarded']['median_ms']:.2f} ms "
          f"(p90 {forward['forwarded']['p90_ms']:.2f}): forwarding adds {extra:.2f} ms")
    for r in rows:
        if r["first_error"]:
            print(f"{r['mode']}: first error {r['first_error']}")


if __name__ == "__main__":
    sys.exit(main())
