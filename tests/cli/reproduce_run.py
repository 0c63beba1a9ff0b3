#!/usr/bin/python3
"""A run's stored scenario reproduces it: re-running the fully resolved
scenario from a results file (here a run inside a sweep) with `cxsim run`
gives bit-identical series.

Usage: /usr/bin/python3 reproduce_run.py CXSIM RESULTS.h5 RUN_ID WORKDIR
"""
import os
import subprocess
import sys

import h5py
import numpy as np


def main(cxsim, results, run_id, workdir):
    with h5py.File(results, "r") as f:
        run = f["runs"][run_id]
        scenario = run.attrs["scenario"]
        original = {name: run["series"][name][()] for name in run["series"]}
    toml = os.path.join(workdir, f"reproduce_{run_id}.toml")
    out = os.path.join(workdir, f"reproduce_{run_id}.h5")
    with open(toml, "w") as handle:
        handle.write(scenario)
    subprocess.run([cxsim, "run", toml, "--out", out, "--quiet", "--threads", "2"], check=True)
    with h5py.File(out, "r") as f:
        again = {name: f["runs/000000/series"][name][()] for name in f["runs/000000/series"]}
    if original.keys() != again.keys():
        print("series names differ")
        return 1
    different = [n for n in original if original[n].tobytes() != again[n].tobytes()]
    if different:
        print("series differ:", ", ".join(different))
        return 1
    print(f"run {run_id} reproduced bit for bit from its stored scenario ({len(original)} series)")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
