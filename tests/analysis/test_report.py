"""cxsim-report on results files written by the real simulator in this test run
(make_results.py): the report and every figure exist, the tables match hand
computations from the HDF5 file, Sobol designs are read correctly, and bad
input gives one line and no report."""
import base64
import glob
import math
import os
import re
import shutil

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from conftest import run_report  # noqa: E402
from cxsim_report import analysis, load_results  # noqa: E402

METRICS = ("share", "customers", "margin", "nps", "trust", "churn")
OUTCOMES = ("mean_share", "final_customers", "mean_margin", "mean_nps", "mean_trust", "churn")
POLICIES = ("no_stand", "authentic_stand", "hollow_stand")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def reports(report_cmd, results, workdir):
    """One report per results file, written once for the module."""
    out = {}
    for name, path in results.items():
        target = os.path.join(workdir, "reports", name)
        if os.path.exists(target):
            shutil.rmtree(target)
        proc = run_report(report_cmd, path, "--out", target)
        assert "index.html" in proc.stderr
        out[name] = target
    return out


def figures_of(report_dir):
    """The figures the page embeds: (file named in data-file, embedded bytes)."""
    with open(os.path.join(report_dir, "index.html"), encoding="utf-8") as fh:
        page = fh.read()
    found = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" data-file="([^"]+)"', page)
    assert len(found) == page.count("<img "), "every image is an embedded PNG"
    return page, [(name, base64.b64decode(data)) for data, name in found]


def check_figures(report_dir, expected):
    page, embedded = figures_of(report_dir)
    assert "http://" not in page and "https://" not in page and "<script" not in page, "self-contained"
    names = [os.path.basename(n) for n, _ in embedded]
    assert sorted(names) == sorted(expected)
    assert sorted(os.listdir(os.path.join(report_dir, "figures"))) == sorted(expected)
    for name, data in embedded:
        path = os.path.join(report_dir, name)
        with open(path, "rb") as fh:
            on_disk = fh.read()
        assert on_disk == data, f"{name}: the page embeds the file in figures/"
        assert len(on_disk) > 5000 and on_disk.startswith(PNG), name
        image = matplotlib.image.imread(path)
        assert image.shape[0] > 200 and image.shape[1] > 300, name
        assert float(image[..., :3].std()) > 0.02, f"{name} is blank"
    return page


def test_policy_report_has_every_figure(reports):
    expected = [f"ts_{m}__{p}.png" for m in METRICS for p in POLICIES]
    expected += [f"diff_{m}.png" for m in METRICS] + ["effects.png", "outcomes.png"]
    page = check_figures(reports["policies"], expected)
    for text in ("report_policies", "take_a_stand", "baseline", "hollow_stand", "master seed 11",
                 "12 (3 policies × 4 replicates)", "0.1.0", "Policy comparison", "distinguishable"):
        assert text in page, text
    for f in ("runs.csv", "comparison.csv"):
        assert os.path.getsize(os.path.join(reports["policies"], f)) > 0


def hand_ci(values):
    """Mean and 95% t interval of 4 values, written out (t_{0.975, 3} = 3.182446305)."""
    assert len(values) == 4
    mean = sum(values) / 4
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / 3)
    half = 3.182446305 * sd / 2
    return mean, mean - half, mean + half


def test_intervals_match_a_hand_computation(reports, results):
    table = pd.read_csv(os.path.join(reports["policies"], "comparison.csv"))
    with h5py.File(results["policies"]) as f:
        s = pd.DataFrame(f["summary"][...])
        s["policy"] = s["policy"].str.decode("utf-8")
        customers = {}
        for rid, pol, rep in zip(s["run_id"].str.decode("utf-8"), s["policy"], s["replicate"]):
            run = f["runs"][rid]
            anchor = list(run["brands"].asstr()[...]).index("Anchor")
            customers[(pol, rep)] = float(run["series/customers"][-1, anchor])
    for outcome, value in (("mean_share", lambda p, r: s[(s.policy == p) & (s.replicate == r)]["mean_share.Anchor"].item()),
                           ("mean_margin", lambda p, r: s[(s.policy == p) & (s.replicate == r)]["mean_margin.Anchor"].item()),
                           ("final_customers", lambda p, r: customers[(p, r)])):
        for policy in POLICIES:
            row = table[(table.group == policy) & (table.brand == "Anchor") & (table.outcome == outcome)].iloc[0]
            mean, low, high = hand_ci([value(policy, r) for r in range(4)])
            assert (row["mean"], row["low"], row["high"]) == pytest.approx((mean, low, high), rel=1e-9, abs=1e-12)
            if policy == "no_stand":
                assert math.isnan(row["diff"])
                continue
            d = [value(policy, r) - value("no_stand", r) for r in range(4)]
            mean, low, high = hand_ci(d)
            assert (row["diff"], row["diff_low"], row["diff_high"]) == pytest.approx((mean, low, high), rel=1e-9,
                                                                                     abs=1e-12)
            assert bool(row["distinguishable"]) == (low > 0 or high < 0)
            assert row["pairs"] == 4 and row["seeds_match"]
    # The stand moves Anchor's trust both ways, far beyond replicate noise.
    trust = table[(table.brand == "Anchor") & (table.outcome == "mean_trust")].set_index("group")
    assert trust.loc["authentic_stand", "diff_low"] > 0 and trust.loc["hollow_stand", "diff_high"] < 0


def test_outcomes_recomputed_from_series_match_the_summary(results):
    """Outcomes the sweep did not record are computed by the report; the ones it did must agree."""
    with h5py.File(results["policies"]) as f:
        summary = pd.DataFrame(f["summary"][...])
    recomputed = load_results(results["policies"], window=26)  # forces every outcome from the series
    columns = [c for c in summary.columns if "." in c]
    assert len(columns) == 16
    for c in columns:
        assert recomputed.runs[c].to_numpy() == pytest.approx(summary[c].to_numpy(), rel=1e-12, abs=1e-12), c


def test_single_run_report_has_no_bands(reports, results):
    page = check_figures(reports["single"], [f"ts_{m}__take_a_stand.png" for m in METRICS])
    assert "A single run: no replicates" in page and "single run" in page
    table = pd.read_csv(os.path.join(reports["single"], "comparison.csv"))
    assert len(table) == 4 * 6 and table["low"].isna().all() and table["n"].eq(1).all()
    with h5py.File(results["single"]) as f:
        run = f["runs/000000"]
        share = run["series/share"][:, list(run["brands"].asstr()[...]).index("Anchor")]
        seed = int(run.attrs["seed"])
    row = table[(table.brand == "Anchor") & (table.outcome == "mean_share")].iloc[0]
    assert len(share) == 40 and row["mean"] == pytest.approx(share.mean(), rel=1e-12)  # 40 steps < 52-week window
    assert str(seed) in page


def test_sobol_report(reports):
    expected = [f"heatmap_{o}.png" for o in OUTCOMES] + [f"response_{o}.png" for o in OUTCOMES]
    expected += ["sensitivity.png"] + [f"ts_{m}__design.png" for m in METRICS]
    page = check_figures(reports["sobol"], expected)
    assert "Sobol indices" in page and "64 (8 samples × 4 Saltelli matrices × 2 replicates)" in page
    sens = pd.read_csv(os.path.join(reports["sobol"], "sensitivity.csv"))
    assert set(sens["method"]) == {"sobol"} and len(sens) == 4 * 6 * 2
    assert set(sens["samples"]) == {8}
    # Trust in Anchor follows its action alone: action's total index dwarfs beta_life's.
    t = sens[(sens.brand == "Anchor") & (sens.outcome == "mean_trust")].set_index("factor")
    assert t.loc["brands.Anchor.action", "total"] > 0.8 > 0.1 > t.loc["choice.beta_life", "total"]


def test_sobol_design_is_decoded(results):
    """Saltelli's AB_i rows are A with column i from B, and the report's indices are the
    estimators applied to the file's own design (here with the Ishigami function as outcome)."""
    r = load_results(results["sobol"])
    keys = r.factors
    assert keys == ["choice.beta_life", "brands.Anchor.action"]
    rows = r.runs[r.runs.replicate == 0].set_index(["point", "sobol_matrix"])[keys]
    for point in range(8):
        a, b = rows.loc[(point, "A")].to_numpy(), rows.loc[(point, "B")].to_numpy()
        for i in range(2):
            expected = a.copy()
            expected[i] = b[i]
            assert rows.loc[(point, f"AB{i + 1}")].to_numpy() == pytest.approx(expected)
    # Ishigami of the design (x3 fixed at 1), scaled to [-pi, pi], as the outcome.
    lo, hi = np.array([2.0, 0.1]), np.array([8.0, 0.9])
    x = -math.pi + 2 * math.pi * (r.runs[keys].to_numpy() - lo) / (hi - lo)
    r.runs["mean_share.Anchor"] = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * np.sin(x[:, 0])
    o = analysis.headline_outcomes(r.window)[0]
    got = analysis.sobol_table(r, [o], ["Anchor"]).set_index("factor")
    y = r.runs[r.runs.replicate == 0].set_index(["point", "sobol_matrix"])["mean_share.Anchor"].unstack()
    ya, yb = y["A"].to_numpy(), y["B"].to_numpy()
    var = np.var(np.concatenate([ya, yb]))
    centre = np.concatenate([ya, yb]).mean()
    for i, key in enumerate(keys, start=1):
        yab = y[f"AB{i}"].to_numpy()
        first = np.mean((yb - centre) * (yab - ya)) / var
        total = np.mean((ya - yab) ** 2) / (2 * var)
        assert got.loc[key, "first"] == pytest.approx(first, rel=1e-9)
        assert got.loc[key, "total"] == pytest.approx(total, rel=1e-9)


def test_grid_report(reports, results):
    expected = [f"heatmap_{o}.png" for o in OUTCOMES] + [f"response_{o}.png" for o in OUTCOMES]
    expected += ["sensitivity.png"] + [f"ts_{m}__design.png" for m in METRICS]
    page = check_figures(reports["grid"], expected)
    assert "standardised regression coefficients" in page and "Design points" in page
    points = pd.read_csv(os.path.join(reports["grid"], "points.csv"))
    assert len(points) == 6 and set(points["n"]) == {2}
    sens = pd.read_csv(os.path.join(reports["grid"], "sensitivity.csv"))
    assert set(sens["method"]) == {"src"}
    t = sens[(sens.brand == "Anchor") & (sens.outcome == "mean_trust")].set_index("factor")
    assert t.loc["brands.Anchor.action", "src"] > 0.9 and t.loc["brands.Anchor.action", "src_low"] > 0
    # The cell table is the mean over each cell's replicates.
    with h5py.File(results["grid"]) as f:
        s = pd.DataFrame(f["summary"][...])
    cell = s[(s["choice.beta_life"] == 5.0) & (s["brands.Anchor.action"] == 0.8)]["mean_trust.Anchor"]
    row = points[(points["choice.beta_life"] == 5.0) & (points["brands.Anchor.action"] == 0.8)].iloc[0]
    assert row["mean_trust"] == pytest.approx(cell.mean(), rel=1e-12)


def test_one_factor_lhs_report(reports, results):
    """One factor: response curves and SRCs, no heatmap; the focus brand is the one the factor names."""
    expected = [f"response_{o}.png" for o in OUTCOMES] + ["sensitivity.png"]
    expected += [f"ts_{m}__design.png" for m in METRICS]
    page = check_figures(reports["lhs"], expected)
    assert "Latin hypercube" in page and "brands.Verde.price</b> in [9, 14]" in page
    sens = pd.read_csv(os.path.join(reports["lhs"], "sensitivity.csv"))
    assert set(sens["method"]) == {"src"} and set(sens["factor"]) == {"brands.Verde.price"}
    share = sens[(sens.brand == "Verde") & (sens.outcome == "mean_share")].iloc[0]
    assert share["src"] < 0  # a dearer Verde sells less
    r = load_results(results["lhs"])
    assert analysis.focus_brand(r) == "Verde" and r.design == "lhs" and len(r.runs) == 10


def one_line_error(proc, code, pattern):
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(pattern, lines[0]), proc.stderr
    assert proc.stdout == ""


def no_leftovers(directory):
    assert not glob.glob(os.path.join(directory, ".*.tmp-*")) and not glob.glob(os.path.join(directory, ".*.old-*"))


def test_bad_input_gives_one_line_and_no_report(report_cmd, workdir, results):
    base = os.path.join(workdir, "errors")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    out = os.path.join(base, "report")

    one_line_error(run_report(report_cmd, os.path.join(base, "missing.h5"), "--out", out, check=False), 3,
                   r"missing\.h5.*no such file")
    text = os.path.join(base, "notes.h5")
    with open(text, "w") as fh:
        fh.write("not HDF5\n")
    one_line_error(run_report(report_cmd, text, "--out", out, check=False), 3, r"notes\.h5.*HDF5")
    other = os.path.join(base, "other.h5")
    with h5py.File(other, "w") as f:
        f["x"] = 1
    one_line_error(run_report(report_cmd, other, "--out", out, check=False), 3, r"not a cxsim results file")
    one_line_error(run_report(report_cmd, results["policies"], "--out", out, "--reference", "nope", check=False), 2,
                   r"--reference: unknown policy 'nope'")
    one_line_error(run_report(report_cmd, results["policies"], "--out", out, "--brand", "Nope", check=False), 2,
                   r"--brand: unknown brand 'Nope'")
    one_line_error(run_report(report_cmd, results["policies"], "--frobnicate", check=False), 2,
                   r"unrecognized arguments")
    assert not os.path.exists(out)
    no_leftovers(base)

    # A directory that is not a report is never replaced.
    keep = os.path.join(base, "precious")
    os.makedirs(keep)
    with open(os.path.join(keep, "thesis.txt"), "w") as fh:
        fh.write("do not delete\n")
    one_line_error(run_report(report_cmd, results["single"], "--out", keep, check=False), 2, r"not a cxsim report")
    assert os.listdir(keep) == ["thesis.txt"]

    # An earlier report is replaced whole, with another reference policy.
    run_report(report_cmd, results["single"], "--out", out, "--quiet")
    proc = run_report(report_cmd, results["policies"], "--out", out, "--reference", "hollow_stand")
    assert "figures" in os.listdir(out) and "ts_share__take_a_stand.png" not in os.listdir(os.path.join(out, "figures"))
    table = pd.read_csv(os.path.join(out, "comparison.csv"))
    assert table[table.group == "hollow_stand"]["diff"].isna().all()
    assert table[table.group == "no_stand"]["diff"].notna().all()
    assert proc.stderr.count("\n") == 1
    no_leftovers(base)


def test_interrupted_report_leaves_nothing(report_cmd, workdir, results):
    """SIGTERM while the figures are drawn: exit 130, no report, no temporary directory."""
    import signal
    import subprocess
    import time

    base = os.path.join(workdir, "interrupt")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    out = os.path.join(base, "report")
    proc = subprocess.Popen([report_cmd, results["policies"], "--out", out], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not glob.glob(os.path.join(base, ".report.tmp-*", "figures", "*.png")) and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and not os.path.exists(out)
    no_leftovers(base)
