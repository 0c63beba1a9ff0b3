"""The report opens in a real browser: headless Chromium (Debian's chromium)
renders index.html and takes a screenshot without errors, and the screenshot
shows the embedded figures."""
import os
import re
import shutil
import subprocess

import matplotlib

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from conftest import run_report  # noqa: E402

WIDTH, HEIGHT = 1400, 3200


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("headless Chromium is required: install Debian's chromium package (bash .ci/install-deps)")


@pytest.mark.parametrize("name", ["policies", "sobol"])
def test_report_renders_in_chromium(name, report_cmd, results, workdir):
    base = os.path.join(workdir, "browser", name)
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    report = os.path.join(base, "report")
    run_report(report_cmd, results[name], "--out", report, "--quiet")
    shot = os.path.join(base, "screenshot.png")
    proc = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
         "--enable-logging=stderr", "--v=0", f"--user-data-dir={os.path.join(base, 'profile')}",
         f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={shot}", "file://" + os.path.join(report, "index.html")],
        capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # The page itself logs nothing: no console messages, no failed loads (the environment's
    # D-Bus and GPU warnings are not about the page).
    page_errors = [line for line in proc.stderr.splitlines() if re.search(r"CONSOLE|net::ERR_|Uncaught|Not allowed", line)]
    assert not page_errors, "\n".join(page_errors)
    image = matplotlib.image.imread(shot)
    assert image.shape[:2] == (HEIGHT, WIDTH)
    rgb = (image[..., :3] * 255).round().astype(int)
    assert (rgb.min(axis=2) < 200).mean() > 0.05, "the screenshot is mostly blank"
    # Anchor's colour (#E69F00) in thousands of pixels: the figures were drawn, not just the tables' swatches.
    anchor = np.all(np.abs(rgb - np.array([230, 159, 0])) <= 12, axis=2).sum()
    assert anchor > 2000, f"only {anchor} pixels in Anchor's colour"
