#!/usr/bin/python3
"""The /summary table of a sweep matches its runs: ids, policies, seeds, and
outcomes recomputed here from each run's series (final_share, mean_margin and
churn over the experiment's window).

Usage: /usr/bin/python3 check_summary.py SWEEP.h5
"""
import sys
import tomllib

import h5py
import numpy as np
import pandas as pd


def main(path):
    with h5py.File(path, "r") as f:
        summary = pd.DataFrame(f["summary"][...])
        summary = summary.apply(lambda c: c.str.decode("utf-8") if c.dtype == object else c)
        experiment = tomllib.loads(f.attrs["experiment_toml"])
        window = experiment.get("outcomes", {}).get("window", 52)
        problems = []
        for _, row in summary.iterrows():
            run = f["runs"][row["run_id"]]
            if int(run.attrs["seed"]) != int(row["seed"]):  # exact: seeds use 63 bits
                problems.append(f"{row['run_id']}: seed {row['seed']} != {run.attrs['seed']}")
            brands = run["brands"].asstr()[...]
            s = run["series"]
            for b, brand in enumerate(brands):
                expected = {
                    "final_share": s["share"][-1, b],
                    "mean_margin": s["margin"][-window:, b].mean(),
                    "churn": np.mean(s["defections"][-window:, b] / np.maximum(s["customers"][-window:, b], 1)),
                }
                for name, value in expected.items():
                    column = f"{name}.{brand}"
                    if column in summary and not np.isclose(row[column], value, rtol=1e-12, atol=1e-12):
                        problems.append(f"{row['run_id']}: {column} = {row[column]}, recomputed {value}")
        # Common random numbers: replicate r has one seed in every policy.
        seeds = summary.groupby("replicate")["seed"].nunique()
        if (seeds != 1).any():
            problems.append("replicates do not share seeds across policies")
    if problems:
        print("\n".join(problems[:20]))
        return 1
    print(f"{path}: summary of {len(summary)} runs matches the runs' series")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
