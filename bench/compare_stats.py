#!/usr/bin/python3
"""Do two cxsim builds simulate the same model? Runs a scenario with many seeds
on each binary and compares, series by series, the mean over seeds of each
run's time average (per brand / cohort / segment column), with Welch's t.

Different random-number consumption gives different runs, so single runs
differ; the model is unchanged if the distributions of the statistics agree:
|t| should look like a standard normal sample (a few above 2, none far above 3
among some hundred columns).

  bench/compare_stats.py OLD_BINARY NEW_BINARY [--scenario FILE] [--seeds 16]
      [--customers 50000] [--steps N] [--set KEY=VALUE ...]
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import h5py
import numpy as np

SERIES = ["share", "customers", "acquisitions", "defections", "promoters", "detractors", "nps", "loyalty", "trust",
          "engagement", "turnover", "ambassadors", "service_quality", "cohort_share", "segment_share", "salience",
          "values_weight", "margin"]


def run(binary, scenario, seed, args, out):
    cmd = [binary, "run", scenario, "--quiet", "--threads", "1", "--out", out, "--set", f"scenario.seed={seed}",
           "--set", f"population.customers={args.customers}"]
    if args.steps:
        cmd += ["--set", f"scenario.steps={args.steps}"]
    for s in args.set:
        cmd += ["--set", s]
    subprocess.run(cmd, check=True)
    stats = {}
    with h5py.File(out, "r") as f:
        run_group = f["runs"][list(f["runs"].keys())[0]]["series"]
        for name in SERIES:
            if name not in run_group:
                continue
            x = np.asarray(run_group[name], dtype=float)
            stats[name] = x.reshape(x.shape[0], -1).mean(axis=0)  # time average per column
    os.remove(out)
    return stats


def collect(binary, args, tmp):
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        jobs = [pool.submit(run, binary, args.scenario, 1000 + s, args, os.path.join(tmp, f"{os.getpid()}_{id(binary)}_{s}.h5"))
                for s in range(args.seeds)]
        return [j.result() for j in jobs]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--scenario", default=os.path.join(os.path.dirname(__file__), "..", "scenarios", "take_a_stand.toml"))
    p.add_argument("--seeds", type=int, default=16)
    p.add_argument("--customers", type=int, default=50000)
    p.add_argument("--steps", type=int, default=0, help="horizon (default: the scenario's)")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--set", action="append", default=[])
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = collect(args.old, args, tmp)
        new = collect(args.new, args, tmp)
    ts = []
    print(f"{'series':16s} {'cols':>4s} {'max |t|':>8s}  old mean (first cols) / new mean")
    for name in SERIES:
        if name not in old[0]:
            continue
        a = np.array([r[name] for r in old])
        b = np.array([r[name] for r in new])
        se = np.sqrt(a.var(axis=0, ddof=1) / len(a) + b.var(axis=0, ddof=1) / len(b))
        diff = b.mean(axis=0) - a.mean(axis=0)
        t = np.where(se > 0, diff / np.where(se > 0, se, 1), np.where(diff == 0, 0.0, np.inf))
        ts.extend(t.tolist())
        shown = ", ".join(f"{x:.4g}/{y:.4g}" for x, y in zip(a.mean(axis=0)[:4], b.mean(axis=0)[:4]))
        print(f"{name:16s} {t.size:4d} {np.max(np.abs(t)):8.2f}  {shown}")
    ts = np.array(ts)
    print(f"\n{ts.size} columns: mean t {ts.mean():+.2f}, sd of t {ts.std():.2f}, |t|>2: {np.sum(np.abs(ts) > 2)} "
          f"(expected ~{0.0455 * ts.size:.0f}), |t|>3: {np.sum(np.abs(ts) > 3)} (expected ~{0.0027 * ts.size:.1f})")


if __name__ == "__main__":
    main()
