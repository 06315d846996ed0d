#!/usr/bin/env python3
"""Browser benchmark: warm navigate + screenshot of a local page, Warden vs Playwright.

Serves one page on 127.0.0.1 (Python's http.server, no-store), starts `warden
serve` on a temporary state directory with policies that let the browser
reach that port and nothing else, and measures in one run, in shuffled rounds:

  warden             POST /v1/browser/screenshot {url, viewport 1280x720} over a
                     keep-alive HTTP connection: policy, quota reserve/settle,
                     the tenant's worker, a fresh browser context (made ahead),
                     the page through the egress proxy, Chromium jailed
  playwright         Playwright for Python driving the same Chromium binary
                     (chromium.launch(executable_path=...)): page.goto + screenshot
                     on one reused page
  playwright-context the same with a fresh context per call, as Warden gives:
                     new_context + new_page + goto + screenshot + close
  cdp-pipe           a bare DevTools pipe client (this script's own): navigate,
                     wait for load, captureScreenshot on one reused page; what
                     Chromium itself costs
  cdp-pipe-fast      the same with optimizeForSpeed (the faster PNG encoding
                     Warden asks for)

Then: the cold start of a browser in its jail (Warden-Browser-Start-Ms of a
fresh tenant's first call, and that call end to end) against Playwright's
chromium.launch(); and memory per tenant browser: the peak of the browser's
cgroup and the Pss of its processes, beside Playwright's browser.

Everything it contacts is on 127.0.0.1. Playwright comes from PyPI: without
it the script makes a venv at .build/browser-bench-venv (from /usr/bin/python3),
installs `playwright` there and runs itself again with that Python.

Usage: scripts/bench/browser.py [--warden .build/release/warden] [--rounds 60]
       [--cold 5] [--chromium /usr/lib/chromium/chromium-headless-shell] [--json]
"""
import argparse
import base64
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

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VENV = os.path.join(ROOT, ".build", "browser-bench-venv")


def ensure_playwright():
    try:
        import playwright.sync_api  # noqa: F401
        return
    except ImportError:
        pass
    python = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        raise SystemExit("playwright is missing from " + VENV)
    if not os.path.exists(python):
        subprocess.run(["/usr/bin/python3", "-m", "venv", VENV], check=True)
    subprocess.run([python, "-m", "pip", "install", "-q", "playwright"], check=True)
    os.execv(python, [python] + sys.argv)


ensure_playwright()
from playwright.sync_api import sync_playwright  # noqa: E402

sys.path.insert(0, HERE)
from exec import Daemon, pss_kb, percentile  # noqa: E402  (same folder)

HOST = "127.0.0.1"
VIEWPORT = {"width": 1280, "height": 720}
PAGE = ("<!doctype html><html><head><title>Bench page</title><style>"
        "body{font:16px/1.5 sans-serif;margin:40px;background:linear-gradient(#e8f0ff,#fff)}"
        "h1{color:#234} .box{display:inline-block;width:120px;height:80px;margin:8px;border-radius:8px}"
        "</style></head><body><h1>A local page</h1>"
        + "".join(f'<div class="box" style="background:hsl({i * 37 % 360},60%,60%)"></div>' for i in range(12))
        + "<p>" + "Some text to lay out and paint. " * 60 + "</p></body></html>").encode()


class Page(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args):
        pass


class PipeClient:
    """A bare DevTools client over --remote-debugging-pipe: one reused page."""

    def __init__(self, chromium):
        cmd_r, self.cmd_w = os.pipe()
        self.evt_r, evt_w = os.pipe()

        def fds():
            os.dup2(cmd_r, 3)
            os.dup2(evt_w, 4)
        self.proc = subprocess.Popen([chromium, "--remote-debugging-pipe", "--no-sandbox", "--no-zygote",
                                      "--hide-scrollbars", "--force-color-profile=srgb", "about:blank"],
                                     pass_fds=(3, 4), preexec_fn=fds, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        os.close(cmd_r)
        os.close(evt_w)
        self.buffer, self.next_id, self.events = b"", 0, []
        self.call("Browser.getVersion")
        self.session = self.call("Target.attachToTarget", targetId=self.call("Target.createTarget", url="about:blank")
                                 ["targetId"], flatten=True)["sessionId"]
        for method, params in [("Page.enable", {}), ("Page.setLifecycleEventsEnabled", {"enabled": True}),
                               ("Emulation.setDeviceMetricsOverride", dict(VIEWPORT, deviceScaleFactor=1, mobile=False))]:
            self.call(method, session=self.session, **params)

    def message(self):
        while b"\0" not in self.buffer:
            chunk = os.read(self.evt_r, 1 << 20)
            if not chunk:
                raise RuntimeError("the browser closed its pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method, session=None, **params):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self.cmd_w, json.dumps(message).encode() + b"\0")
        while True:
            m = self.message()
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m["result"]
            self.events.append(m)

    def shot(self, url, fast=False):
        self.events.clear()
        loader = self.call("Page.navigate", session=self.session, url=url)["loaderId"]

        def loaded(m):
            p = m.get("params", {})
            return m.get("method") == "Page.lifecycleEvent" and p.get("name") == "load" and p.get("loaderId") == loader
        while not any(loaded(m) for m in self.events):
            self.events.append(self.message())
        data = self.call("Page.captureScreenshot", session=self.session, format="png", optimizeForSpeed=fast)["data"]
        return base64.b64decode(data)

    def close(self):
        os.close(self.cmd_w)
        self.proc.wait(timeout=10)


def warden_shot(conn, key, url):
    conn.request("POST", "/v1/browser/screenshot", body=json.dumps({"url": url, "viewport": VIEWPORT}),
                 headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    r = conn.getresponse()
    body = r.read()
    if r.status != 200 or not body.startswith(b"\x89PNG"):
        raise RuntimeError(f"warden answered {r.status}: {body[:300]!r}")
    # Server-Timing: browser;dur=TOTAL, page;dur=…, load;dur=…, work;dur=…
    timing = {}
    for part in (r.getheader("Server-Timing") or "").split(","):
        name, _, dur = part.strip().partition(";dur=")
        if dur:
            timing[name] = float(dur)
    return r, timing


def summary(samples):
    return {"median_ms": statistics.median(samples), "p90_ms": percentile(samples, 90),
            "min_ms": min(samples), "n": len(samples)}


def descendants(root):
    children = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    children.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(p))
            except (OSError, ValueError, IndexError):
                pass
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def browser_pss_mb(pids):
    return sum(pss_kb(p) for p in pids) / 1024


def browser_cgroup_peak_mb(tenant_id):
    """The peak of the tenant's browser cgroup (v1 memory, or v2 memory.peak)."""
    for base in ["/sys/fs/cgroup/memory/warden/tenants", "/sys/fs/cgroup/warden/tenants"]:
        if not os.path.isdir(base):
            continue
        for name in os.listdir(base):
            if name.endswith("-" + tenant_id):
                for leaf in ["memory.max_usage_in_bytes", "memory.peak"]:
                    path = os.path.join(base, name, "browser", leaf)
                    if os.path.exists(path):
                        with open(path) as f:
                            return int(f.read()) / (1 << 20)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--warden", default=os.path.join(ROOT, ".build/release/warden"))
    ap.add_argument("--chromium", default="/usr/lib/chromium/chromium-headless-shell")
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--cold", type=int, default=5)
    ap.add_argument("--port", type=int, default=18580)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    server = http.server.ThreadingHTTPServer((HOST, 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://{HOST}:{server.server_address[1]}/page"

    state = tempfile.mkdtemp(prefix="warden-bench-browser-")
    os.chmod(state, 0o755)
    policies = os.path.join(state, "policies")
    shutil.copytree(os.path.join(ROOT, "policies"), policies)
    with open(os.path.join(policies, "egress.json"), "w") as f:
        json.dump({"egress": {"ports": [server.server_address[1]], "allow_private": ["127.0.0.1/32"]}}, f)
    daemon = Daemon(os.path.abspath(a.warden), state, a.port,
                    ["--policies", policies, "--browser-idle", "3600", "--browser-binary", a.chromium])
    out = {"load_before": os.getloadavg()[0], "page_bytes": len(PAGE)}
    pw = sync_playwright().start()
    pipe = None
    try:
        key = daemon.tenant_with_key("bench")
        tenant_id = daemon.admin("tenant", "show", "bench")["id"]
        conn = http.client.HTTPConnection(HOST, a.port, timeout=120)
        launched = pw.chromium.launch(executable_path=a.chromium)
        page = launched.new_page(viewport=VIEWPORT)
        pipe = PipeClient(a.chromium)

        def playwright_page():
            page.goto(url)
            return page.screenshot()

        def playwright_context():
            context = launched.new_context(viewport=VIEWPORT)
            try:
                fresh = context.new_page()
                fresh.goto(url)
                return fresh.screenshot()
            finally:
                context.close()

        worker_ms = []

        def warden():
            _, ms = warden_shot(conn, key, url)
            worker_ms.append(ms)

        systems = {"warden": warden, "playwright": playwright_page, "playwright-context": playwright_context,
                   "cdp-pipe": lambda: pipe.shot(url), "cdp-pipe-fast": lambda: pipe.shot(url, fast=True)}
        for _ in range(a.warmup):
            for run in systems.values():
                run()
        worker_ms.clear()
        samples = {name: [] for name in systems}
        for _ in range(a.rounds):
            order = list(systems)
            random.shuffle(order)
            for name in order:
                t0 = time.perf_counter_ns()
                systems[name]()
                samples[name].append((time.perf_counter_ns() - t0) / 1e6)
        out["warm"] = {name: summary(s) for name, s in samples.items()}
        out["warm"]["warden"]["worker_median_ms"] = {
            part: statistics.median(t[part] for t in worker_ms if part in t)
            for part in ["browser", "page", "load", "work"] if any(part in t for t in worker_ms)}
        w = out["warm"]["warden"]["median_ms"]
        out["ratios"] = {f"warden / {peer}": w / out["warm"][peer]["median_ms"] for peer in systems if peer != "warden"}

        # Memory, with every browser warm and idle.
        worker = next(s["pid"] for s in daemon.admin("workers", "ps")["workers"] if s["tenant_id"] == tenant_id)
        warden_browser = [p for p in descendants(worker) if "chromium-headless-shell" in cmdline(p)]
        # Playwright's browser is the one with its profile directory; its children are the rest.
        mains = [p for p in descendants(os.getpid()) if "chromium-headless-shell" in cmdline(p) and "playwright" in cmdline(p)]
        playwright_browser = mains + [c for p in mains for c in descendants(p)]
        out["memory_mb"] = {
            "warden_browser_cgroup_peak": browser_cgroup_peak_mb(tenant_id),
            "warden_browser_pss": browser_pss_mb(warden_browser), "warden_browser_processes": len(warden_browser),
            "playwright_browser_pss": browser_pss_mb(playwright_browser),
            "playwright_browser_processes": len(playwright_browser)}

        # Cold: a fresh tenant's first browser call (worker and browser start) against chromium.launch().
        cold_e2e, cold_start, cold_launch = [], [], []
        for i in range(a.cold):
            fresh_key = daemon.tenant_with_key(f"cold{i}")
            fresh = http.client.HTTPConnection(HOST, a.port, timeout=120)
            t0 = time.perf_counter_ns()
            r, _ = warden_shot(fresh, fresh_key, url)
            cold_e2e.append((time.perf_counter_ns() - t0) / 1e6)
            cold_start.append(float(r.getheader("Warden-Browser-Start-Ms")))
            fresh.close()
            t0 = time.perf_counter_ns()
            browser = pw.chromium.launch(executable_path=a.chromium)
            cold_launch.append((time.perf_counter_ns() - t0) / 1e6)
            browser.close()
        out["cold"] = {"warden_browser_start_in_jail": summary(cold_start),
                       "warden_first_call_end_to_end": summary(cold_e2e),
                       "playwright_launch": summary(cold_launch)}
    finally:
        if pipe:
            pipe.close()
        pw.stop()
        daemon.stop()
        server.shutdown()
        shutil.rmtree(state, ignore_errors=True)
    out["load_after"] = os.getloadavg()[0]

    if a.json:
        print(json.dumps(out, indent=2))
        return
    print(f"warm navigate + screenshot of a local page ({a.rounds} shuffled rounds; load {out['load_before']:.1f} → {out['load_after']:.1f})")
    print(f"{'':20} {'median':>8} {'p90':>8} {'min':>8}  ms")
    for name, s in out["warm"].items():
        print(f"{name:20} {s['median_ms']:8.1f} {s['p90_ms']:8.1f} {s['min_ms']:8.1f}")
    parts = out["warm"]["warden"]["worker_median_ms"]
    if parts:
        print("  warden's worker (Server-Timing medians): "
              + ", ".join(f"{name} {ms:.1f}" for name, ms in parts.items()) + " ms")
    for name, ratio in out["ratios"].items():
        print(f"  {name}: {ratio:.2f}")
    c = out["cold"]
    print(f"cold: browser start in its jail {c['warden_browser_start_in_jail']['median_ms']:.0f} ms, "
          f"first call of a fresh tenant end to end {c['warden_first_call_end_to_end']['median_ms']:.0f} ms, "
          f"playwright chromium.launch() {c['playwright_launch']['median_ms']:.0f} ms (medians of {a.cold})")
    m = out["memory_mb"]
    peak = m["warden_browser_cgroup_peak"]
    print(f"memory: warden browser cgroup peak {peak:.0f} MiB" if peak else "memory: no browser cgroup (rootless)", end="")
    print(f", Pss {m['warden_browser_pss']:.0f} MiB in {m['warden_browser_processes']} processes; "
          f"playwright's browser Pss {m['playwright_browser_pss']:.0f} MiB in {m['playwright_browser_processes']} processes")


if __name__ == "__main__":
    main()
