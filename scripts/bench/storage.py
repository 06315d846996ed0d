#!/usr/bin/env python3
"""Storage benchmark: worker start with a workspace image against a plain directory, side by side.

Run as root (images need root). Starts `warden serve` on a temporary state
directory (loopback only) with two plans, `dir` (no storage.bytes: the
workspace is a directory bound in) and `img` (storage.bytes of --mib MiB: an
ext4 image attached inside the jail), and measures in alternating rounds:

  first   the first call of a fresh tenant: worker start + `true` in bash;
          for `img` this includes making the image (mkfs.ext4 twice, debugfs)
  restart the first call after `warden workers restart`: worker start with
          the image already made (loop device + fsmount + move_mount)
  warm    `true` on a running worker: the storage.bytes gauge is measured
          after every exec (statvfs of the image, a walk of the directory)

Usage: scripts/bench/storage.py [--warden .build/release/warden] [--rounds 20] [--mib 100] [--json]
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exec import Client, Daemon  # noqa: E402  (the supervisor benchmark's helpers)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--warden", default=".build/release/warden")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--warm", type=int, default=50)
    ap.add_argument("--mib", type=int, default=100)
    ap.add_argument("--port", type=int, default=18490)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: workspace images need root")
    state = tempfile.mkdtemp(prefix="warden-bench-storage-")
    daemon = Daemon(os.path.abspath(args.warden), state, args.port)
    times = {k: {"dir": [], "img": []} for k in ("first", "restart", "warm")}
    try:
        daemon.admin("plan", "create", "dir", "--from", "pro", "storage.bytes=none")
        daemon.admin("plan", "create", "img", "--from", "pro", f"storage.bytes={args.mib}M")
        client = Client(args.port)

        def call(key):
            ns, status, body = client.exec(key, "bash", "true")
            if status != 200:
                raise SystemExit(f"exec answered {status}: {body[:300]!r}")
            return ns / 1e6

        for r in range(args.rounds):
            kinds = ["dir", "img"] if r % 2 == 0 else ["img", "dir"]
            for kind in kinds:
                name = f"{kind}{r}"
                daemon.admin("tenant", "create", name, "--plan", kind)
                key = daemon.admin("key", "issue", name)["token"]
                times["first"][kind].append(call(key))
                daemon.admin("workers", "restart", name)
                time.sleep(0.3)  # the old worker ends (its grace) before the timed start
                times["restart"][kind].append(call(key))
                warm = [call(key) for _ in range(args.warm // args.rounds + 1)]
                times["warm"][kind].extend(warm)
                daemon.admin("tenant", "delete", name)
    finally:
        daemon.stop()
        shutil.rmtree(state, ignore_errors=True)

    out = {k: {kind: {"median_ms": statistics.median(v), "max_ms": max(v), "n": len(v)} for kind, v in d.items()}
           for k, d in times.items()}
    out["load_after"] = os.getloadavg()[0]
    if args.json:
        print(json.dumps(out, indent=2))
        return
    for k in ("first", "restart", "warm"):
        d, i = out[k]["dir"], out[k]["img"]
        print(f"{k:8} directory median {d['median_ms']:6.1f} ms (max {d['max_ms']:6.1f}) | "
              f"image median {i['median_ms']:6.1f} ms (max {i['max_ms']:6.1f}) | +{i['median_ms'] - d['median_ms']:.1f} ms")
    print(f"load average after {out['load_after']:.1f}")


if __name__ == "__main__":
    main()
