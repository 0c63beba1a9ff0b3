"""Statistics of the report: confidence intervals over replicates, paired
differences on common random numbers, Sobol indices (Saltelli 2010 first-order,
Jansen total-effect) and standardised regression coefficients.

Only numpy and the standard library: Student's t quantiles come from the
regularised incomplete beta function below, not from scipy. docs/analysis.md
gives every formula.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

LEVEL = 0.95  # confidence level of every interval in the report


# --- Student's t distribution -------------------------------------------------

def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta function I_x(a, b) for a, b > 0, x in [0, 1]."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with df > 0 degrees of freedom."""
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t with df degrees of freedom (df = inf: normal)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"quantile probability must be in (0, 1), got {p}")
    if math.isinf(df):
        return NormalDist().inv_cdf(p)
    if df <= 0:
        raise ValueError(f"degrees of freedom must be > 0, got {df}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        hi *= 2.0
    for _ in range(200):  # bisection to machine precision
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


def t_critical(n: int, level: float = LEVEL) -> float:
    """Two-sided critical value t_{(1+level)/2, n-1} for a mean of n >= 2 values."""
    return t_quantile(0.5 + level / 2.0, n - 1)


# --- Means and paired differences --------------------------------------------

@dataclass(frozen=True)
class Interval:
    """A mean with its two-sided confidence interval. With n < 2 the bounds are NaN."""

    mean: float
    low: float
    high: float
    n: int
    sd: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2.0

    @property
    def excludes_zero(self) -> bool:
        """True when the interval lies strictly on one side of zero (n >= 2)."""
        return self.n >= 2 and (self.low > 0.0 or self.high < 0.0)


def mean_ci(values, level: float = LEVEL) -> Interval:
    """Mean of `values` with the t interval mean ± t_{(1+level)/2, n-1} · s / √n."""
    x = np.asarray(values, dtype=float).ravel()
    n = x.size
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, math.nan)
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, n, math.nan)
    sd = float(x.std(ddof=1))
    half = t_critical(n, level) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, sd)


def paired_difference(values, reference, level: float = LEVEL) -> Interval:
    """Mean of the per-replicate differences values[r] - reference[r], with its t interval.

    The two arrays are paired element by element (replicate r ran on the same seed
    in both); the interval is that of the mean of the n differences.
    """
    a = np.asarray(values, dtype=float).ravel()
    b = np.asarray(reference, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired samples differ in length: {a.size} and {b.size}")
    return mean_ci(a - b, level)


def band(values, level: float = LEVEL):
    """Pointwise mean and t interval over axis 0 of a (replicates, steps, ...) array.

    Returns (mean, low, high); low and high are None with fewer than 2 replicates.
    """
    x = np.asarray(values, dtype=float)
    n = x.shape[0]
    mean = x.mean(axis=0)
    if n < 2:
        return mean, None, None
    half = t_critical(n, level) * x.std(axis=0, ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half


# --- Sobol indices --------------------------------------------------------------

@dataclass(frozen=True)
class SobolIndices:
    """First-order (S1) and total (ST) indices per factor, with bootstrap intervals."""

    first: np.ndarray
    total: np.ndarray
    first_low: np.ndarray
    first_high: np.ndarray
    total_low: np.ndarray
    total_high: np.ndarray
    variance: float
    samples: int


def _sobol_point(y_a, y_b, y_ab):
    """S1 and ST of every factor for samples along the last axis (broadcasts over leading axes)."""
    both = np.concatenate([y_a, y_b], axis=-1)
    var = np.var(both, axis=-1)
    centre = both.mean(axis=-1, keepdims=True)  # S1's estimator is unbiased either way, far less noisy centred
    y_a, y_b, y_ab = y_a - centre, y_b - centre, y_ab - centre[..., None, :]
    first = np.mean(y_b[..., None, :] * (y_ab - y_a[..., None, :]), axis=-1)  # Saltelli (2010)
    total = 0.5 * np.mean((y_a[..., None, :] - y_ab) ** 2, axis=-1)  # Jansen (1999)
    with np.errstate(divide="ignore", invalid="ignore"):
        return first / var[..., None], total / var[..., None], var


def sobol_indices(y_a, y_b, y_ab, level: float = LEVEL, resamples: int = 1000, seed: int = 12345) -> SobolIndices:
    """Sobol indices from Saltelli's matrices.

    y_a, y_b: model outputs on the N rows of A and B; y_ab: shape (k, N), row i
    the outputs on AB_i (A with column i taken from B). With V the variance of
    the 2N outputs of A and B:

        S1_i = mean(y_B · (y_ABi - y_A)) / V          (Saltelli et al. 2010)
        ST_i = mean((y_A - y_ABi)²) / (2 V)           (Jansen 1999)

    Outputs are centred on the mean of the 2N outputs of A and B first, which
    leaves both estimators' expectations unchanged and makes S1's much less
    noisy when the outputs' mean is large against their spread. The intervals
    are bootstrap percentile intervals: the N samples resampled
    with replacement `resamples` times (a fixed seed, so reports are
    reproducible). Indices are NaN when the outputs do not vary.
    """
    y_a = np.asarray(y_a, dtype=float)
    y_b = np.asarray(y_b, dtype=float)
    y_ab = np.atleast_2d(np.asarray(y_ab, dtype=float))
    n = y_a.size
    if y_b.size != n or y_ab.shape[1] != n:
        raise ValueError("Sobol matrices A, B and AB_i need the same number of samples")
    first, total, var = _sobol_point(y_a, y_b, y_ab)
    if var <= 0 or n < 2:
        nan = np.full(y_ab.shape[0], np.nan)
        return SobolIndices(nan, nan, nan, nan, nan, nan, float(var), n)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(resamples, n))
    bf, bt, _ = _sobol_point(y_a[idx], y_b[idx], np.moveaxis(y_ab[:, idx], 0, 1))
    alpha = (1.0 - level) / 2.0
    q = lambda a, p: np.nanquantile(a, p, axis=0)  # noqa: E731 - resamples with V = 0 are dropped
    return SobolIndices(first, total, q(bf, alpha), q(bf, 1 - alpha), q(bt, alpha), q(bt, 1 - alpha),
                        float(var), n)


# --- Standardised regression coefficients -------------------------------------

@dataclass(frozen=True)
class Regression:
    """Standardised regression coefficients of y on the factors, with t intervals."""

    src: np.ndarray
    low: np.ndarray
    high: np.ndarray
    r2: float
    n: int


def standardised_regression(x, y, level: float = LEVEL) -> Regression:
    """SRC_j = b_j · sd(x_j) / sd(y) from the least-squares fit y = b_0 + Σ b_j x_j.

    Equivalently, the coefficients of the fit on z-scores. Intervals: ±
    t_{(1+level)/2, n-p-1} times the standard error of each coefficient on the
    z-score scale. Factors that do not vary get NaN; so does everything when y
    does not vary.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    if x.ndim == 1:
        x = x[:, None]
    n, p = x.shape
    nan = np.full(p, np.nan)
    sx = x.std(axis=0, ddof=1) if n > 1 else np.zeros(p)
    sy = y.std(ddof=1) if n > 1 else 0.0
    varying = sx > 0
    if sy <= 0 or not varying.any():
        return Regression(nan, nan.copy(), nan.copy(), math.nan, n)
    z = (x[:, varying] - x[:, varying].mean(axis=0)) / sx[varying]
    zy = (y - y.mean()) / sy
    design = np.column_stack([np.ones(n), z])
    coef, _, rank, _ = np.linalg.lstsq(design, zy, rcond=None)
    resid = zy - design @ coef
    r2 = 1.0 - float(resid @ resid) / float(zy @ zy)
    src, low, high = nan.copy(), nan.copy(), nan.copy()
    src[varying] = coef[1:]
    dof = n - design.shape[1]
    if dof >= 1 and rank == design.shape[1]:
        s2 = float(resid @ resid) / dof
        se = np.sqrt(np.diag(s2 * np.linalg.inv(design.T @ design)))[1:]
        half = t_quantile(0.5 + level / 2.0, dof) * se
        low[varying] = coef[1:] - half
        high[varying] = coef[1:] + half
    return Regression(src, low, high, r2, n)
