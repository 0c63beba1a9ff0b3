"""Command line: cxsim-report RESULTS.h5 [--out DIR] [--reference POLICY] [--brand BRAND] [--window N].

Exit codes as cxsim's: 0 success, 1 internal error, 2 bad input, 3 file error,
130 interrupted. Every error is one line on stderr, and no report directory
appears unless it is complete.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys

from . import __version__
from .load import ReportError

USAGE = "cxsim-report RESULTS.h5 [--out DIR] [--reference POLICY] [--brand BRAND] [--window N] [--quiet]"
DESCRIPTION = (
    "Writes an HTML report of a cxsim results file (cxsim run or cxsim sweep) into DIR: index.html with the\n"
    "figures embedded, the same figures as PNG in DIR/figures, and the tables as CSV. Policy sweeps get a\n"
    "comparison on paired replicates, factor sweeps heatmaps, response curves and sensitivity indices.\n"
    "See docs/analysis.md.")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit status 2 (argparse prints usage and a second line)
        raise ReportError(f"{message} (see cxsim-report --help)", 2)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="cxsim-report", usage=USAGE, description=DESCRIPTION,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", metavar="RESULTS.h5", help="results file written by cxsim run or cxsim sweep")
    p.add_argument("--out", "-o", metavar="DIR",
                   help="report directory (default: RESULTS-report next to the results file); replaced if it "
                        "holds an earlier report, refused if it holds anything else")
    p.add_argument("--reference", metavar="POLICY", help="policy the others are compared with (default: the first)")
    p.add_argument("--brand", metavar="BRAND",
                   help="focus brand of the effect plots and sensitivity analysis (default: the brand the "
                        "experiment varies)")
    p.add_argument("--window", metavar="N", type=int,
                   help="weeks at the end of each run that long-run outcomes average (default: the experiment's "
                        "outcome window, 52 for a single run); recomputes every outcome from the series")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    p.add_argument("--version", action="version", version=f"cxsim-report {__version__}")
    return p


def _on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        args = _parser().parse_args(argv)
        if args.window is not None and args.window < 1:
            raise ReportError(f"--window: expected an integer >= 1, got {args.window}", 2)
        out = args.out or os.path.splitext(args.results)[0] + "-report"
        from .report import write_report  # matplotlib loads only when there is work to do
        ctx = write_report(args.results, out, brand=args.brand, reference=args.reference, window=args.window)
        if not args.quiet:
            n = len(ctx.results.runs)
            print(f"cxsim-report: {n} run{'s' if n != 1 else ''}, {len(ctx.figures)} figures; open "
                  f"{os.path.join(os.path.abspath(out), 'index.html')}", file=sys.stderr)
        return 0
    except ReportError as e:
        print(f"cxsim-report: {e}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        print("cxsim-report: interrupted; no report written", file=sys.stderr)
        return 130
    except OSError as e:
        where = f" '{e.filename}'" if e.filename else ""
        print(f"cxsim-report: cannot write{where}: {e.strerror or e}", file=sys.stderr)
        return 3
    except Exception as e:  # noqa: BLE001 - one line, not a traceback, unless asked for
        if os.environ.get("CXSIM_REPORT_DEBUG"):
            raise
        print(f"cxsim-report: internal error: {type(e).__name__}: {e} (CXSIM_REPORT_DEBUG=1 shows where)",
              file=sys.stderr)
        return 1
