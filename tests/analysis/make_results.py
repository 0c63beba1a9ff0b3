#!/usr/bin/python3
"""Writes the results files the report tests read, with the real simulator:
a policy sweep, a Sobol sweep, a grid sweep, a Latin hypercube (tests/analysis/*.toml) and a
single run of the default scenario.

Usage: /usr/bin/python3 make_results.py CXSIM OUTDIR
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SWEEPS = ("policies", "sobol", "grid", "lhs")


def paths(outdir: str) -> dict:
    return {name: os.path.join(outdir, f"{name}.h5") for name in (*SWEEPS, "single")}


def make(cxsim: str, outdir: str) -> dict:
    """Runs every sweep and the single run into outdir (replacing earlier files)."""
    os.makedirs(outdir, exist_ok=True)
    out = paths(outdir)
    for name in SWEEPS:
        parts = out[name] + ".parts"
        if os.path.isdir(parts):  # left by an interrupted earlier test run
            subprocess.run(["rm", "-rf", parts], check=True)
        subprocess.run([cxsim, "sweep", os.path.join(HERE, f"{name}.toml"), "--out", out[name], "--threads", "2",
                        "--quiet"], check=True)
    subprocess.run([cxsim, "run", "--customers", "3000", "--steps", "40", "--threads", "2", "--quiet",
                    "--out", out["single"]], check=True)
    return out


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    for path in make(sys.argv[1], sys.argv[2]).values():
        print(path)
