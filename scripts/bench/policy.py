#!/usr/bin/python3
"""Policy decision benchmark: Warden's Rego engine against OPA and rego-cpp, side by side in one run.

Every engine evaluates the default tool policy (policies/*.rego without the tests, query
data.warden.decision) in process, on one core, cycling through the same inputs
(scripts/bench/policy-inputs.jsonl: exec/files/fetch/browser calls on free, creator and pro
tenants; allowed, denied, approval, ceilings exceeded, private hosts):

  warden  `warden policy bench --format json --inputs FILE`: the policy is prepared once and
          each decision is one PreparedQuery.evaluate(input:) on a parsed input
  opa     PyPI opa-golib-python-bindings (OPA's Go engine as a shared library, through
          ctypes): OpaEngine.eval_document("warden.decision", input); OPA keeps the
          prepared query, each decision crosses the binding as JSON in and out
  regopy  PyPI regopy (rego-cpp): the policy built once into a bundle, then per decision
          set_input + query_bundle_entrypoint("warden/decision")

Each engine runs in a process of its own under `taskset -c CPU` (the Go runtime with
GOMAXPROCS=1), in shuffled rounds. With --floor, each peer also runs a one-line policy
(`decision := {"allow": true}`) on the same inputs: what crossing its binding costs alone. Before timing, every engine's decision for every input is
compared with Warden's; a difference is printed loudly and listed under the table.

The peers live in a Python venv (default .build/bench-venv, or $WARDEN_BENCH_VENV); with
--setup the script makes it with pip. opa-golib-python-bindings declares Python >= 3.14 but
is a ctypes wrapper that runs on 3.12, so it is installed with --ignore-requires-python.
"""
import argparse
import glob
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
QUERY = "data.warden.decision"
ENGINES = ["warden", "opa", "regopy"]
FLOOR_POLICY = 'package warden\n\ndecision := {"allow": true}\n'


def policy_files():
    return sorted(f for f in glob.glob(os.path.join(ROOT, "policies", "*.rego")) if not f.endswith("_test.rego"))


def read_inputs(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# ---------------------------------------------------------------- peers (run inside the venv)

def policy_sources(floor):
    if floor:
        return [("floor.rego", FLOOR_POLICY)]
    out = []
    for f in policy_files():
        with open(f) as src:
            out.append((os.path.relpath(f, ROOT), src.read()))
    return out


def opa_engine(floor=False):
    from opa_bindings import OpaEngine
    engine = OpaEngine()
    for name, text in policy_sources(floor):
        engine.add_policy(name, text)

    def decide(inp):
        return engine.eval_document("warden.decision", inp)
    return decide


def regopy_engine(floor=False):
    from regopy import Input, Interpreter
    from regopy.rego_shared import rego_bundle_query_entrypoint, rego_free_output, rego_output_ok, rego_output_string
    interp = Interpreter()
    for name, text in policy_sources(floor):
        interp.add_module(name, text)
    bundle = interp.build(None, ["warden/decision"])

    def decide(inp):
        # What Interpreter.query_bundle_entrypoint does, minus its Output wrapper, which
        # raises on the output text rego-cpp sometimes produces (unescaped quotes in
        # strings); such a decision is reported as a mismatch with its raw text.
        interp.set_input(Input(inp))
        out = rego_bundle_query_entrypoint(interp._impl, bundle._impl, "warden/decision")
        try:
            text = rego_output_string(out)
            if not rego_output_ok(out):
                raise RuntimeError(text)
        finally:
            rego_free_output(out)
        if text == "undefined":
            return None
        try:
            return json.loads(text)["expressions"][0]
        except (ValueError, KeyError, IndexError):
            return {"unparsable rego-cpp output": text}
    return decide


def worker(engine, inputs_path, count):
    """Runs inside the venv, pinned: prints the decisions, then the timing, as JSON."""
    inputs = read_inputs(inputs_path)
    peer, _, floor = engine.partition(" ")
    decide = {"opa": opa_engine, "regopy": regopy_engine}[peer](floor=bool(floor))
    decisions = [decide(i) for i in inputs]
    for k in range(min(100, count)):  # warm-up, as warden policy bench does
        decide(inputs[k % len(inputs)])
    samples = []
    clock = time.perf_counter_ns
    start = clock()
    for k in range(count):
        inp = inputs[k % len(inputs)]
        t0 = clock()
        decide(inp)
        samples.append(clock() - t0)
    total = clock() - start
    print(json.dumps({"results": decisions, **summary(samples, count, total)}))


def summary(samples_ns, count, total_ns):
    s = sorted(samples_ns)
    return {"count": count, "median_us": s[len(s) // 2] / 1e3,
            "p99_us": s[min(len(s) - 1, int(len(s) * 0.99))] / 1e3,
            "decisions_per_second": count / (total_ns / 1e9)}


# ---------------------------------------------------------------- driver

def venv_python(args):
    venv = args.venv or os.environ.get("WARDEN_BENCH_VENV", os.path.join(ROOT, ".build", "bench-venv"))
    return venv, os.path.join(venv, "bin", "python3")


def setup_venv(venv, notes):
    """Makes the venv with a Python >= 3.12 and installs the two peers from PyPI."""
    py = None
    for candidate in ["python3.14", "python3.13", "python3.12"] + sorted(glob.glob("/root/.pyenv/versions/3.1[2-9]*/bin/python3"), reverse=True):
        path = candidate if os.path.isabs(candidate) else None
        if path is None:
            r = subprocess.run(["sh", "-c", f"command -v {candidate}"], capture_output=True, text=True)
            path = r.stdout.strip() or None
        if path and subprocess.run([path, "-c", "import venv"], capture_output=True).returncode == 0:
            py = path
            break
    if py is None:
        note(notes, "no Python >= 3.12 found for the peers' venv")
        return
    if not os.path.exists(os.path.join(venv, "bin", "python3")):
        subprocess.run([py, "-m", "venv", venv], check=True)
    pip = [os.path.join(venv, "bin", "pip"), "install", "-q"]
    subprocess.run(pip + ["regopy"], check=False)
    subprocess.run(pip + ["--ignore-requires-python", "opa-golib-python-bindings"], check=False)


def note(notes, text):
    notes.append(text)
    print("note: " + text, file=sys.stderr)


def run_engine(engine, args, python, inputs_path):
    pin = ["taskset", "-c", str(args.cpu)]
    if engine == "warden":
        cmd = pin + [args.warden, "policy", "bench", "--format", "json", "--count", str(args.count),
                     "--inputs", inputs_path] + sum((["-d", f] for f in policy_files()), []) + [QUERY]
        env = None
    else:
        cmd = pin + [python, os.path.abspath(__file__), "--worker", engine, "--inputs", inputs_path,
                     "--peer-count", str(args.peer_count)]
        env = dict(os.environ, GOMAXPROCS="1")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"{engine} failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def loadavg():
    return os.getloadavg()[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warden", default=os.path.join(ROOT, ".build", "release", "warden"))
    ap.add_argument("--inputs", default=os.path.join(ROOT, "scripts", "bench", "policy-inputs.jsonl"))
    ap.add_argument("--count", type=int, default=20000, help="Warden decisions per round")
    ap.add_argument("--peer-count", type=int, default=2000, help="OPA and regopy decisions per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cpu", type=int, default=1, help="the core every engine is pinned to")
    ap.add_argument("--only", help="comma-separated engines")
    ap.add_argument("--venv")
    ap.add_argument("--setup", action="store_true", help="make the peers' venv first")
    ap.add_argument("--floor", action="store_true", help="also time each peer's binding on a one-line policy")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args.worker, args.inputs, args.peer_count)

    notes = []
    venv, python = venv_python(args)
    if args.setup:
        setup_venv(venv, notes)
    inputs_path = os.path.abspath(args.inputs)
    inputs = read_inputs(inputs_path)
    engines = args.only.split(",") if args.only else list(ENGINES)
    if "warden" not in engines:
        engines.insert(0, "warden")  # the reference for ratios and decisions
    for e in [e for e in engines if e != "warden"]:
        module = {"opa": "opa_bindings", "regopy": "regopy"}[e.split(" ")[0]]
        if not os.access(python, os.X_OK) or subprocess.run([python, "-c", f"import {module}"],
                                                            capture_output=True).returncode != 0:
            note(notes, f"{e} skipped: {module} is not importable from {python} (run with --setup)")
            engines.remove(e)

    if args.floor:
        engines += [e + " floor" for e in engines if e != "warden"]
    rng = random.Random(args.seed)
    load_before = loadavg()
    rounds = {e: [] for e in engines}
    decisions = {}
    for _ in range(args.rounds):
        order = list(engines)
        rng.shuffle(order)
        for e in order:
            try:
                r = run_engine(e, args, python, inputs_path)
            except RuntimeError as err:
                note(notes, str(err))
                engines.remove(e)
                continue
            rounds[e].append(r)
            decisions.setdefault(e, r["results"])
    load_after = loadavg()

    mismatches = []
    reference = decisions.get("warden", [])
    for e in engines:
        if e == "warden" or e.endswith(" floor"):
            continue
        for i, (mine, theirs) in enumerate(zip(reference, decisions.get(e, []))):
            if canonical(mine) != canonical(theirs):
                inp = inputs[i]
                what = f"input {i + 1} ({inp['tenant']['plan']} {inp['tool']} {json.dumps(inp['args'])})"
                mismatches.append(f"{e} differs from warden on {what}: warden {canonical(mine)}, {e} {canonical(theirs)}")
    for m in mismatches:
        print("!!! DECISION MISMATCH: " + m, file=sys.stderr)

    rows = []
    for e in engines:
        rs = rounds[e]
        if not rs:
            continue
        rows.append({"engine": e, "rounds": len(rs), "decisions": sum(r["count"] for r in rs),
                     "median_us": statistics.median(r["median_us"] for r in rs),
                     "p99_us": statistics.median(r["p99_us"] for r in rs),
                     "decisions_per_second": statistics.median(r["decisions_per_second"] for r in rs)})
    base = next((r["median_us"] for r in rows if r["engine"] == "warden"), None)
    for r in rows:
        r["x_warden"] = r["median_us"] / base if base else None
    header = (f"# policy decisions ({QUERY}), {len(inputs)} inputs, {args.rounds} rounds, cpu {args.cpu}, "
              f"load {load_before:.2f} -> {load_after:.2f}, {platform.release()}, {os.cpu_count()} cpus")
    if args.json:
        print(json.dumps({"header": header, "rows": rows, "mismatches": mismatches, "notes": notes}, indent=2))
        return exit_code(mismatches)
    print(header)
    print(f"{'engine':<13} {'decisions':>10} {'median µs':>10} {'p99 µs':>10} {'decisions/s':>12} {'x warden':>9}")
    print("-" * 69)
    for r in rows:
        print(f"{r['engine']:<13} {r['decisions']:>10} {r['median_us']:>10.2f} {r['p99_us']:>10.2f} "
              f"{r['decisions_per_second']:>12.0f} {r['x_warden']:>9.1f}")
    if mismatches:
        compared = len(inputs) * len([e for e in engines if e != "warden" and not e.endswith(" floor")])
        print(f"\n!!! {len(mismatches)} DECISION MISMATCHES (see above); same decisions: "
              f"{compared - len(mismatches)}/{compared}")
    else:
        print(f"\nall engines agree on all {len(inputs)} decisions")
    for n in notes:
        print("note: " + n)
    return exit_code(mismatches)


def exit_code(mismatches):
    """OPA is the reference: a decision Warden and OPA disagree on fails the run."""
    return 1 if any(m.startswith("opa ") for m in mismatches) else 0


if __name__ == "__main__":
    sys.exit(main())
