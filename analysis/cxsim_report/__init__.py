"""cxsim-report: an HTML report with figures from a cxsim results file.

    cxsim-report RESULTS.h5 --out DIR

From Python (with this directory's parent on sys.path):

    from cxsim_report import load_results, stats
    results = load_results("results/stance.h5")   # results.runs: one row per run
    stats.mean_ci(results.outcome("mean_share", "Anchor"))

`cxsim_report.report.write_report` writes the whole report (it loads
matplotlib, so it is not imported here). docs/analysis.md describes the report
and every statistic.
"""
__version__ = "0.1.0"

from . import stats  # noqa: E402
from .load import ReportError, Results, load_results  # noqa: E402

__all__ = ["ReportError", "Results", "load_results", "stats", "__version__"]
