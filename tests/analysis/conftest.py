"""Shared fixtures of the report tests.

Environment (set by tests/analysis/CMakeLists.txt):
  CXSIM              the cxsim binary
  CXSIM_REPORT       the cxsim-report launcher
  CXSIM_ANALYSIS_TMP directory with the results files of make_results.py
                     (written here if missing, so pytest also runs by hand)
"""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "analysis"))
sys.path.insert(0, HERE)

import make_results  # noqa: E402


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"set {name} (ctest does; see tests/analysis/CMakeLists.txt)")
    return value


@pytest.fixture(scope="session")
def cxsim() -> str:
    return _env("CXSIM")


@pytest.fixture(scope="session")
def report_cmd() -> str:
    return _env("CXSIM_REPORT")


@pytest.fixture(scope="session")
def workdir() -> str:
    path = _env("CXSIM_ANALYSIS_TMP")
    os.makedirs(path, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def results(cxsim, workdir) -> dict:
    """The results files, made by the simulator (by the ctest fixture, or here)."""
    files = make_results.paths(os.path.join(workdir, "results"))
    if not all(os.path.exists(p) for p in files.values()):
        files = make_results.make(cxsim, os.path.join(workdir, "results"))
    return files


def run_report(report_cmd: str, *args, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([report_cmd, *map(str, args)], capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"cxsim-report {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}")
    return proc
