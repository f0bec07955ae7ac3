"""Where a cost stops growing linearly: the knee of a sweep over users (or rates).

Method: a continuous two-segment ("hinge") least-squares fit,

    cost = a + b·x + c·max(0, x - k),

with the breakpoint k tried at each interior point of the sweep and, in each gap between
neighbouring points, where lines fitted separately to the points on either side meet (when
they meet inside the gap: there the hinge fits as well as two free lines). The breakpoint
with the smallest residual sum of squares is the candidate. It is accepted as the knee only
when

1. it beats one straight line by an F-test of the extra slope term at 5 % (n - 3 residual
   degrees of freedom), corrected for the breakpoints searched (Bonferroni: p times the
   2m - 3 candidates of m distinct points, < 0.05), and
2. the slope changes by at least 25 % of the steeper one (`MIN_SLOPE_CHANGE`): a bend
   smaller than that is within what the harness's own bookkeeping (dict resizes, page
   rounding, allocator arenas) bends a per-user cost by, and no team would act on it;

3. the cost grows on at least one side of it: a series that falls on both sides (a
   target's RSS shrinking as the rate rises, say) has no growth to bend;

otherwise the verdict is "linear throughout", with one line's slope.

What it can and cannot find with few points (5, say): a bend at a measured point or in a
gap with two points on each side is located exactly on clean data (within one step on
noisy data); one in the first or last gap (a single point beyond it) is found only when it
lands on the second or second-to-last point, else blurred into a line. Five points leave
the F-test two residual degrees of freedom and 7 candidates, so the hinge must remove
~99 % of one line's residual (F > 138): a knee is claimed only on clean figures (the run
peak heap is; RSS is noisier). A smooth curve (cost growing as x²) is reported as a knee
at its best-fitting break: the method does not tell a gradual bend from a sharp one.
Fewer than 4 distinct x cannot test a hinge at all: "too few points". On lines with noise
of 2-5 % of their range, 3-5 % of seeded series were called a knee (the test's 5 %).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Literal

import msgspec

ALPHA = 0.05
MIN_SLOPE_CHANGE = 0.25
MIN_POINTS = 4  # a hinge has 3 coefficients: 4 points leave one degree of freedom to test it
# Residuals (in units of the cost's range, squared) below this are rounding, not misfit.
EXACT_FIT = 1e-20

Verdict = Literal["knee", "linear throughout", "too few points"]
METHOD = (
    "two-segment least-squares fit with the break at each interior point and, in each gap, "
    "where lines fitted on either side meet; accepted when it beats one line by an F-test at "
    f"{ALPHA:.0%} (Bonferroni over the breaks searched) and the slope changes by at least "
    f"{MIN_SLOPE_CHANGE:.0%} of the steeper one, with the cost growing on at least one side"
)


class LineFit(msgspec.Struct, kw_only=True):
    intercept: float
    slope: float
    rss: float  # residual sum of squares, in the cost's unit squared

    def value(self, x: float) -> float:
        return self.intercept + self.slope * x


class HingeFit(msgspec.Struct, kw_only=True):
    at: float  # the breakpoint
    intercept: float
    slope_before: float
    slope_after: float
    rss: float

    def value(self, x: float) -> float:
        before = self.intercept + self.slope_before * x
        return before + (self.slope_after - self.slope_before) * max(0.0, x - self.at)


class Knee(msgspec.Struct, kw_only=True):
    """One figure's verdict over a sweep. Slopes are the figure's unit per x unit (bytes
    per user on a users sweep)."""

    metric: str
    verdict: Verdict
    points: int  # points the fit used
    knee_at: float | None = None  # x where the slope changes (verdict "knee" only)
    slope_before: float | None = None
    slope_after: float | None = None
    line: LineFit | None = None  # one straight line through every point
    hinge: HingeFit | None = None  # the best two-segment fit, accepted or not
    f_statistic: float | None = None  # None with a p_value: infinite (the hinge fits exactly)
    p_value: float | None = None  # Bonferroni-corrected over `candidates`
    candidates: int = 0  # breakpoints tried
    reason: str = ""

    @property
    def f_text(self) -> str:
        return "inf" if self.f_statistic is None else f"{self.f_statistic:.4g}"


def _solve(columns: Sequence[Sequence[float]], ys: Sequence[float]) -> list[float]:
    """Least-squares coefficients by the normal equations and Gaussian elimination with
    partial pivoting; the caller scales its columns to ~1, so a few points stay exact."""
    size = len(columns)
    rows = [
        [sum(a * b for a, b in zip(ci, cj, strict=True)) for cj in columns]
        + [sum(a * y for a, y in zip(ci, ys, strict=True))]
        for ci in columns
    ]
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        if rows[col][col] == 0.0:
            raise ValueError("the fit's columns are not independent")
        for r in range(col + 1, size):
            factor = rows[r][col] / rows[col][col]
            rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col], strict=True)]
    coefficients = [0.0] * size
    for col in reversed(range(size)):
        known = sum(rows[col][j] * coefficients[j] for j in range(col + 1, size))
        coefficients[col] = (rows[col][size] - known) / rows[col][col]
    return coefficients


def _rss(columns: Sequence[Sequence[float]], ys: Sequence[float], coef: Sequence[float]) -> float:
    rows = zip(*columns, strict=True)
    fitted = [math.fsum(c * value for c, value in zip(coef, row, strict=True)) for row in rows]
    return math.fsum((y - f) * (y - f) for y, f in zip(ys, fitted, strict=True))


class _Scaled:
    """x and y mapped onto [0, 1], so the normal equations stay well conditioned."""

    def __init__(self, xs: Sequence[float], ys: Sequence[float]) -> None:
        self.x0, self.y0 = min(xs), min(ys)
        self.dx = (max(xs) - self.x0) or 1.0
        self.dy = (max(ys) - self.y0) or 1.0
        self.u = [(x - self.x0) / self.dx for x in xs]
        self.v = [(y - self.y0) / self.dy for y in ys]

    def line(self) -> tuple[LineFit, float]:
        columns = [[1.0] * len(self.u), self.u]
        a, b = _solve(columns, self.v)
        slope = b * self.dy / self.dx
        intercept = self.y0 + a * self.dy - slope * self.x0
        scaled_rss = _rss(columns, self.v, (a, b))
        return LineFit(intercept=intercept, slope=slope, rss=scaled_rss * self.dy**2), scaled_rss

    def hinge(self, at: float) -> tuple[HingeFit, float]:
        k = (at - self.x0) / self.dx
        columns = [[1.0] * len(self.u), self.u, [max(0.0, u - k) for u in self.u]]
        a, b, c = _solve(columns, self.v)
        before = b * self.dy / self.dx
        fit = HingeFit(
            at=at,
            intercept=self.y0 + a * self.dy - before * self.x0,
            slope_before=before,
            slope_after=(b + c) * self.dy / self.dx,
            rss=0.0,
        )
        scaled_rss = _rss(columns, self.v, (a, b, c))
        fit.rss = scaled_rss * self.dy**2
        return fit, scaled_rss


def find_knee(xs: Sequence[float], ys: Sequence[float], metric: str = "") -> Knee:
    """The knee of `ys` over `xs` (one pair per measured point), by the method above."""
    if len(xs) != len(ys):
        raise ValueError("one y per x")
    distinct = sorted(set(xs))
    if len(distinct) < MIN_POINTS:
        return Knee(
            metric=metric,
            verdict="too few points",
            points=len(xs),
            reason=f"{len(distinct)} distinct points: a two-segment fit needs {MIN_POINTS}",
        )
    scaled = _Scaled(xs, ys)
    line, line_rss = scaled.line()
    knee = Knee(metric=metric, verdict="linear throughout", points=len(xs), line=line)
    if line_rss <= EXACT_FIT:
        knee.reason = "every point lies on one line"
        return knee
    fits = [scaled.hinge(at) for at in _breakpoints(xs, ys, distinct)]
    best, best_rss = min(fits, key=lambda fit: fit[1])
    knee.hinge, knee.candidates = best, 2 * len(distinct) - 3
    dof = len(xs) - 3
    f = math.inf if best_rss <= EXACT_FIT else (line_rss - best_rss) / (best_rss / dof)
    knee.f_statistic = None if math.isinf(f) else f  # JSON holds no infinity
    knee.p_value = min(1.0, f_survival(f, 1, dof) * knee.candidates)
    return _judge(knee, best)


def _breakpoints(xs: Sequence[float], ys: Sequence[float], distinct: list[float]) -> list[float]:
    """The interior points, and in each gap where separate lines meet inside it."""
    found = list(distinct[1:-1])
    for left, right in itertools.pairwise(distinct):
        below = [(x, y) for x, y in zip(xs, ys, strict=True) if x <= left]
        above = [(x, y) for x, y in zip(xs, ys, strict=True) if x >= right]
        if len({x for x, _ in below}) < 2 or len({x for x, _ in above}) < 2:
            continue  # one point on a side: no line there to meet
        first, second = (_Scaled(*zip(*side, strict=True)).line()[0] for side in (below, above))
        if first.slope != second.slope:
            meet = (second.intercept - first.intercept) / (first.slope - second.slope)
            found += [meet] if left < meet < right else []
    return found


def _judge(knee: Knee, best: HingeFit) -> Knee:
    assert knee.p_value is not None
    test = f"F = {knee.f_text}, p = {knee.p_value:.2g} (x{knee.candidates} breakpoints)"
    if knee.p_value >= ALPHA:
        knee.reason = f"two segments do not beat one line: {test} >= {ALPHA}"
        return knee
    steeper = max(abs(best.slope_before), abs(best.slope_after))
    change = abs(best.slope_after - best.slope_before) / steeper
    if change < MIN_SLOPE_CHANGE:
        knee.reason = (
            f"the best bend (at {best.at:g}) changes the slope by {change:.0%}, "
            f"under {MIN_SLOPE_CHANGE:.0%}: {test}"
        )
        return knee
    if best.slope_before <= 0.0 and best.slope_after <= 0.0:
        knee.reason = (
            f"the best bend (at {best.at:g}) has the cost falling on both sides "
            f"(slopes {best.slope_before:.3g}, then {best.slope_after:.3g}): "
            f"no growth bends there: {test}"
        )
        return knee
    knee.verdict = "knee"
    knee.knee_at, knee.slope_before, knee.slope_after = best.at, best.slope_before, best.slope_after
    knee.reason = f"two segments beat one line: {test} < {ALPHA}"
    return knee


def f_survival(f: float, d1: int, d2: int) -> float:
    """P(F > f) for Fisher's F with (d1, d2) degrees of freedom."""
    if f <= 0.0:
        return 1.0
    if math.isinf(f):
        return 0.0
    return incomplete_beta(d2 / 2.0, d1 / 2.0, d2 / (d2 + d1 * f))


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b), by its continued fraction
    (evaluated where it converges fast, through the symmetry I_x(a, b) = 1 - I_1-x(b, a))."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    log_front += a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b), by the modified Lentz method."""
    tiny, c, d = 1e-300, 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return result
