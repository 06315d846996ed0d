#!/usr/bin/env python3
"""Egress benchmark: fetch and exec with the network through Warden's egress
proxy against the same requests made directly, side by side in one run.

Serves a page from a local HTTP server (Python's http.server on 127.0.0.1),
starts `warden serve` with the shipped policies plus an egress.json that lets
127.0.0.1 and that server's port through, and measures in shuffled rounds:

  fetch   POST /v1/fetch of the page vs plain `curl -s` of it (a process per
          request) and vs an in-process GET (http.client, kept alive)
  exec    exec network:true running `curl -s URL` and a python urllib GET,
          through the call's proxy, vs the same command run on the host,
          directly; and exec network:true vs network:false running `true`
          (what the call's own namespace and proxy listener cost)
  steps   where a fetch's time goes: --rounds sequential fetches each of a URL
          the fetch decision refuses (a private address), of one the proxy
          refuses (a closed port: curl ran, its connection was decided and
          audited), and of the page
  bulk    --bulk-mib MiB downloaded by curl in an exec through the proxy vs
          by curl on the host: seconds and MB/s

Usage: scripts/bench/egress.py [--warden .build/release/warden] [--rounds 40]
       [--page-bytes 16384] [--bulk-mib 64] [--bulk-rounds 3] [--json]
"""
import argparse
import glob
import http.client
import http.server
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exec import HOST, Daemon, percentile  # noqa: E402  (same folder)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Pages(http.server.BaseHTTPRequestHandler):
    """/page: the test page; /bytes/N: N bytes, streamed."""
    protocol_version = "HTTP/1.1"
    page = b""

    def do_GET(self):
        if self.path.startswith("/bytes/"):
            size = int(self.path.rsplit("/", 1)[1])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b"x" * (1 << 16)
            while size > 0:
                self.wfile.write(chunk[:size])
                size -= len(chunk)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *args):
        pass


def start_server(page_bytes):
    Pages.page = (b"<!doctype html><title>bench</title><p>" + b"a" * page_bytes)[:page_bytes]
    server = http.server.ThreadingHTTPServer((HOST, 0), Pages)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def policies_for(port):
    """The shipped decision policies, and data that opens 127.0.0.1:port to egress."""
    directory = tempfile.mkdtemp(prefix="warden-egress-policies-")
    for path in glob.glob(os.path.join(REPO, "policies", "*.rego")):
        if not path.endswith("_test.rego"):
            shutil.copy(path, directory)
    with open(os.path.join(directory, "egress.json"), "w") as f:
        json.dump({"egress": {"ports": [80, 443, port], "allow_private": ["127.0.0.1/32"]}}, f)
    return directory


class Api:
    """One keep-alive connection to the tenant API."""

    def __init__(self, port, key):
        self.port, self.key = port, key
        self.conn = http.client.HTTPConnection(HOST, port, timeout=120)

    def post(self, path, body):
        data = json.dumps(body)
        t0 = time.perf_counter_ns()
        self.conn.request("POST", path, body=data,
                          headers={"Authorization": "Bearer " + self.key, "Content-Type": "application/json"})
        r = self.conn.getresponse()
        payload = r.read()
        ms = (time.perf_counter_ns() - t0) / 1e6
        if r.status != 200:
            raise SystemExit(f"{path} answered {r.status}: {payload[:300]!r}")
        return ms, json.loads(payload)


def timed(argv):
    t0 = time.perf_counter_ns()
    out = subprocess.run(argv, check=True, capture_output=True).stdout
    return (time.perf_counter_ns() - t0) / 1e6, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--warden", default=".build/release/warden")
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--page-bytes", type=int, default=16384)
    ap.add_argument("--bulk-mib", type=int, default=64)
    ap.add_argument("--bulk-rounds", type=int, default=3)
    ap.add_argument("--port", type=int, default=18500)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    random.seed(a.seed)
    server = start_server(a.page_bytes)
    origin = server.server_address[1]
    url = f"http://{HOST}:{origin}/page"
    policies = policies_for(origin)
    state = tempfile.mkdtemp(prefix="warden-egress-bench-")
    os.chmod(state, 0o755)
    d = Daemon(os.path.abspath(a.warden), state, a.port, ["--policies", policies])
    out = {"load_before": os.getloadavg()[0], "page_bytes": a.page_bytes}
    python_get = f"import urllib.request; urllib.request.urlopen('{url}').read()"
    try:
        api = Api(a.port, d.tenant_with_key("egress"))
        direct = http.client.HTTPConnection(HOST, origin, timeout=30)

        def fetch_warden():
            ms, r = api.post("/v1/fetch", {"url": url})
            assert r["bytes"] == a.page_bytes, r
            return ms

        def fetch_refused(target):
            t0 = time.perf_counter_ns()
            api.conn.request("POST", "/v1/fetch", body=json.dumps({"url": target}),
                             headers={"Authorization": "Bearer " + api.key, "Content-Type": "application/json"})
            r = api.conn.getresponse()
            r.read()
            assert r.status == 403, r.status
            return (time.perf_counter_ns() - t0) / 1e6

        def fetch_inprocess():
            t0 = time.perf_counter_ns()
            direct.request("GET", "/page")
            assert len(direct.getresponse().read()) == a.page_bytes
            return (time.perf_counter_ns() - t0) / 1e6

        def exec_call(code, language="bash", network=True):
            ms, r = api.post("/v1/exec", {"language": language, "code": code, "network": network})
            assert r["status"] == "ok", r
            return ms, r

        def exec_curl():
            ms, r = exec_call(f"curl -sS {url}")
            assert len(r["stdout"]) == a.page_bytes, r
            return ms

        variants = {
            "fetch /v1/fetch": fetch_warden,
            "fetch curl (host)": lambda: timed(["curl", "-sS", "-o", "/dev/null", url])[0],
            "fetch http.client (in-process)": fetch_inprocess,
            "exec curl (proxy)": exec_curl,
            "exec python urllib (proxy)": lambda: exec_call(python_get, "python")[0],
            "python urllib (host)": lambda: timed(["/usr/bin/python3", "-c", python_get])[0],
            "exec true, network: true": lambda: exec_call("true")[0],
            "exec true, network: false": lambda: exec_call("true", network=False)[0],
        }
        for run in variants.values():  # warm the worker, curl's and python's pages
            run()
        times = {name: [] for name in variants}
        for _ in range(a.rounds):
            order = list(variants)
            random.shuffle(order)
            for name in order:
                times[name].append(variants[name]())
        out["latency_ms"] = {name: {"median": statistics.median(v), "p90": percentile(v, 90), "n": len(v)}
                             for name, v in times.items()}

        steps = {"refused by the fetch decision": lambda: fetch_refused("http://10.1.2.3/"),
                 "refused by the proxy (net.connect)": lambda: fetch_refused(f"http://{HOST}:9/"),
                 "fetched": fetch_warden}
        out["fetch_steps_ms"] = {name: statistics.median([run() for _ in range(a.rounds)]) for name, run in steps.items()}

        size = a.bulk_mib << 20
        bulk_url = f"http://{HOST}:{origin}/bytes/{size}"
        bulk = {"proxy": [], "host": []}
        for _ in range(a.bulk_rounds):
            for which in random.sample(list(bulk), 2):
                if which == "proxy":
                    ms, r = exec_call(f"curl -sS -o /dev/null -w '%{{size_download}}' {bulk_url}")
                    assert r["stdout"] == str(size), r
                else:
                    ms, body = timed(["curl", "-sS", "-o", "/dev/null", "-w", "%{size_download}", bulk_url])
                    assert body.decode() == str(size)
                bulk[which].append(ms)
        out["bulk"] = {which: {"median_ms": statistics.median(v), "mb_per_s": size / 1e6 / (statistics.median(v) / 1000)}
                       for which, v in bulk.items()}
        out["bulk"]["mib"] = a.bulk_mib
    finally:
        d.stop()
        server.shutdown()
        shutil.rmtree(state, ignore_errors=True)
        shutil.rmtree(policies, ignore_errors=True)
    out["load_after"] = os.getloadavg()[0]
    if a.json:
        print(json.dumps(out, indent=2))
        return
    lat = out["latency_ms"]
    print(f"# egress, {a.rounds} shuffled rounds, a {a.page_bytes}-byte page on 127.0.0.1, "
          f"load {out['load_before']:.2f} -> {out['load_after']:.2f}")
    print(f"{'variant':34} {'median ms':>10} {'p90 ms':>8}  ratio")
    print("-" * 64)
    pairs = {"fetch /v1/fetch": "fetch curl (host)", "fetch curl (host)": "fetch curl (host)",
             "fetch http.client (in-process)": "fetch curl (host)",
             "exec curl (proxy)": "fetch curl (host)", "exec python urllib (proxy)": "python urllib (host)",
             "python urllib (host)": "python urllib (host)",
             "exec true, network: true": "exec true, network: false", "exec true, network: false": "exec true, network: false"}
    for name, v in lat.items():
        peer = pairs[name]
        ratio = v["median"] / lat[peer]["median"]
        print(f"{name:34} {v['median']:10.2f} {v['p90']:8.2f}  {ratio:5.2f} x {peer}")
    print("fetch, sequential medians: " + ", ".join(f"{name} {ms:.2f} ms" for name, ms in out["fetch_steps_ms"].items()))
    b = out["bulk"]
    print(f"bulk {b['mib']} MiB: through the proxy (exec curl) {b['proxy']['median_ms']:.0f} ms, "
          f"{b['proxy']['mb_per_s']:.0f} MB/s; host curl {b['host']['median_ms']:.0f} ms, {b['host']['mb_per_s']:.0f} MB/s "
          f"({b['proxy']['median_ms'] / b['host']['median_ms']:.2f} x)")


if __name__ == "__main__":
    sys.exit(main())
