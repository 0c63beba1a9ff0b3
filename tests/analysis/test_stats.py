"""The report's statistics against tables, hand computations and analytic
test functions (no simulator needed)."""
import math

import numpy as np
import pytest

from cxsim_report import stats

# Two-sided 95% critical values t_{0.975, df} from standard tables.
T_TABLE = {1: 12.706204736, 2: 4.302652730, 3: 3.182446305, 4: 2.776445105, 9: 2.262157163, 29: 2.045229642,
           120: 1.979930405}


@pytest.mark.parametrize("df,expected", sorted(T_TABLE.items()))
def test_t_quantile_matches_tables(df, expected):
    assert stats.t_quantile(0.975, df) == pytest.approx(expected, abs=1e-8)
    assert stats.t_quantile(0.025, df) == pytest.approx(-expected, abs=1e-8)


def test_t_quantile_tends_to_normal():
    assert stats.t_quantile(0.975, math.inf) == pytest.approx(1.959963985, abs=1e-8)
    assert stats.t_quantile(0.975, 1e6) == pytest.approx(1.959963985, abs=1e-5)


def test_mean_ci_by_hand():
    x = [1.0, 2.0, 3.0, 4.0, 10.0]
    # mean 4; squared deviations 9 + 4 + 1 + 0 + 36 = 50; s = sqrt(50 / 4); half = t_{0.975,4} s / sqrt(5)
    half = 2.776445105 * math.sqrt(12.5) / math.sqrt(5)
    ci = stats.mean_ci(x)
    assert ci.n == 5 and ci.mean == pytest.approx(4.0)
    assert ci.sd == pytest.approx(math.sqrt(12.5))
    assert (ci.low, ci.high) == (pytest.approx(4.0 - half, abs=1e-9), pytest.approx(4.0 + half, abs=1e-9))
    assert half == pytest.approx(4.389945, abs=1e-6)


def test_mean_ci_of_one_value_has_no_interval():
    ci = stats.mean_ci([3.5])
    assert ci.mean == 3.5 and math.isnan(ci.low) and math.isnan(ci.high) and not ci.excludes_zero


def test_paired_difference_uses_the_pairs():
    # Large common variation between replicates, small consistent effect: only pairing sees it.
    reference = np.array([10.0, 20.0, 30.0, 40.0])
    policy = reference + np.array([1.0, 1.2, 0.9, 1.1])
    d = stats.paired_difference(policy, reference)
    # differences 1.0, 1.2, 0.9, 1.1: mean 1.05, s = sqrt(0.05 / 3)
    half = 3.182446305 * math.sqrt(0.05 / 3) / 2
    assert d.mean == pytest.approx(1.05)
    assert d.low == pytest.approx(1.05 - half) and d.high == pytest.approx(1.05 + half)
    assert d.excludes_zero
    unpaired = stats.mean_ci(policy).low <= stats.mean_ci(reference).high
    assert unpaired  # the groups' own intervals overlap: unpaired, the effect would be lost in the noise
    with pytest.raises(ValueError):
        stats.paired_difference([1.0, 2.0], [1.0])


def test_zero_difference_is_not_distinguishable():
    d = stats.paired_difference([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert d.mean == 0.0 and not d.excludes_zero


def test_band_is_the_pointwise_interval():
    x = np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 8.0]])
    mean, low, high = stats.band(x)
    for j in range(2):
        ci = stats.mean_ci(x[:, j])
        assert (mean[j], low[j], high[j]) == pytest.approx((ci.mean, ci.low, ci.high))
    mean, low, high = stats.band(x[:1])
    assert low is None and high is None and list(mean) == [1.0, 2.0]


def ishigami(x, a=7.0, b=0.1):
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(a=7.0, b=0.1):
    """Analytic first-order and total indices of the Ishigami function."""
    v1 = 0.5 * (1 + b * math.pi ** 4 / 5) ** 2
    v2 = a ** 2 / 8
    v13 = b ** 2 * math.pi ** 8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def saltelli(f, k, n, rng, low, high):
    """Model outputs on Saltelli's matrices A, B and AB_i for uniform factors."""
    a = rng.uniform(low, high, size=(n, k))
    b = rng.uniform(low, high, size=(n, k))
    ab = []
    for i in range(k):
        m = a.copy()
        m[:, i] = b[:, i]
        ab.append(f(m))
    return f(a), f(b), np.array(ab)


def test_analytic_ishigami_indices():
    first, total = ishigami_indices()
    assert first == pytest.approx([0.3139, 0.4424, 0.0], abs=1e-4)
    assert total == pytest.approx([0.5576, 0.4424, 0.2437], abs=1e-4)


@pytest.mark.parametrize("offset", [0.0, 1000.0])
def test_sobol_recovers_ishigami(offset):
    first, total = ishigami_indices()
    rng = np.random.default_rng(20260101)
    y_a, y_b, y_ab = saltelli(lambda x: ishigami(x) + offset, 3, 2 ** 14, rng, -math.pi, math.pi)
    s = stats.sobol_indices(y_a, y_b, y_ab)
    assert s.samples == 2 ** 14
    assert s.first == pytest.approx(first, abs=0.035)
    assert s.total == pytest.approx(total, abs=0.035)
    # The bootstrap intervals are ordered around the estimate and a few hundredths wide.
    assert np.all(s.first_low <= s.first) and np.all(s.first <= s.first_high)
    assert np.all(s.total_low <= s.total) and np.all(s.total <= s.total_high)
    assert np.all(s.first_high - s.first_low < 0.08) and np.all(s.total_high - s.total_low < 0.08)


def test_sobol_of_an_additive_function():
    # y = 2 x1 + x2 on [0, 1]^2: variances 4/12 and 1/12, no interaction: S1 = ST = (0.8, 0.2).
    rng = np.random.default_rng(7)
    y_a, y_b, y_ab = saltelli(lambda x: 2 * x[:, 0] + x[:, 1], 2, 4096, rng, 0.0, 1.0)
    s = stats.sobol_indices(y_a, y_b, y_ab)
    assert s.first == pytest.approx([0.8, 0.2], abs=0.03)
    assert s.total == pytest.approx([0.8, 0.2], abs=0.03)


def test_sobol_of_a_constant_is_undefined():
    s = stats.sobol_indices(np.ones(8), np.ones(8), np.ones((2, 8)))
    assert np.all(np.isnan(s.first)) and np.all(np.isnan(s.total))


def test_standardised_regression_by_hand():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, size=(200, 3)) * np.array([1.0, 10.0, 5.0])
    y = 3.0 * x[:, 0] - 0.2 * x[:, 1] + 0.0 * x[:, 2] + 7.0
    r = stats.standardised_regression(x, y)
    expected = np.array([3.0, -0.2, 0.0]) * x.std(axis=0, ddof=1) / y.std(ddof=1)
    assert r.src == pytest.approx(expected, abs=1e-10)
    assert r.r2 == pytest.approx(1.0)
    # With noise: the intervals are the raw least-squares standard errors, rescaled.
    noisy = y + rng.normal(0, 0.3, size=y.size)
    rn = stats.standardised_regression(x, noisy)
    design = np.column_stack([np.ones(200), x])
    coef = np.linalg.lstsq(design, noisy, rcond=None)[0]
    resid = noisy - design @ coef
    se = np.sqrt(np.diag(resid @ resid / (200 - 4) * np.linalg.inv(design.T @ design)))[1:]
    scale = x.std(axis=0, ddof=1) / noisy.std(ddof=1)
    t = stats.t_quantile(0.975, 196)
    assert rn.src == pytest.approx(coef[1:] * scale, abs=1e-10)
    assert rn.low == pytest.approx((coef[1:] - t * se) * scale, abs=1e-10)
    assert rn.high == pytest.approx((coef[1:] + t * se) * scale, abs=1e-10)
    assert 0.5 < rn.r2 < 1.0


def test_standardised_regression_intervals_cover_95_percent():
    rng = np.random.default_rng(11)
    hits, trials = 0, 400
    for _ in range(trials):
        x = rng.uniform(0, 1, size=(30, 2))
        y = 1.0 * x[:, 0] - 0.5 * x[:, 1] + rng.normal(0, 0.2, size=30)
        r = stats.standardised_regression(x, y)
        b = np.array([1.0, -0.5]) * x.std(axis=0, ddof=1) / y.std(ddof=1)
        hits += int(np.sum((r.low <= b) & (b <= r.high)))
    assert 0.91 < hits / (2 * trials) < 0.985  # binomial sd about 0.008


def test_standardised_regression_skips_constant_factors():
    x = np.column_stack([np.arange(10.0), np.full(10, 2.0)])
    r = stats.standardised_regression(x, 2 * np.arange(10.0))
    assert r.src[0] == pytest.approx(1.0) and math.isnan(r.src[1])
