"""The knee method on synthetic series: exact bends at each interior point, noise, lines,
flat and too-short series, and the F distribution it tests with."""

from __future__ import annotations

import math
import random

import pytest

from treasure.growth.knee import MIN_SLOPE_CHANGE, f_survival, find_knee, incomplete_beta

USERS = [1000, 2000, 4000, 8000, 12000]
PER_USER = 4096.0  # bytes of state per user before the bend
BASE = 30e6  # the process's own heap


def bent(xs: list[int], at: float, before: float, after: float) -> list[float]:
    """A cost growing `before` per user up to `at` users and `after` per user beyond."""
    return [BASE + before * min(x, at) + after * max(0.0, x - at) for x in xs]


def noisy(ys: list[float], sd: float, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [y + rng.gauss(0.0, sd) for y in ys]


@pytest.mark.parametrize("at", USERS[1:-1])
def test_an_exact_bend_is_found_at_each_interior_point_with_both_slopes(at: int) -> None:
    knee = find_knee(USERS, bent(USERS, at, PER_USER, 4 * PER_USER), "heap")

    assert knee.verdict == "knee"
    assert knee.knee_at == at
    assert knee.slope_before == pytest.approx(PER_USER, rel=1e-9)
    assert knee.slope_after == pytest.approx(4 * PER_USER, rel=1e-9)
    assert knee.candidates == 7  # 3 interior points and 4 gaps
    assert knee.p_value == 0.0
    assert knee.f_statistic is None  # infinite: the two segments fit exactly


@pytest.mark.parametrize("at", USERS[1:-1])
def test_a_bend_under_small_noise_is_found_near_its_point_in_every_seed(at: int) -> None:
    clean = bent(USERS, at, PER_USER, 4 * PER_USER)
    spread = max(clean) - min(clean)
    for seed in range(20):
        knee = find_knee(USERS, noisy(clean, 0.001 * spread, seed))
        assert knee.verdict == "knee", knee.reason
        assert knee.knee_at == pytest.approx(at, rel=0.05)
        assert knee.slope_after == pytest.approx(4 * PER_USER, rel=0.05)


def test_a_bend_that_flattens_is_a_knee_too() -> None:
    # a cache that stops growing when it is full: the slope drops to nothing
    knee = find_knee(USERS, bent(USERS, 4000, PER_USER, 0.0))

    assert knee.verdict == "knee"
    assert knee.knee_at == 4000
    assert knee.slope_after == pytest.approx(0.0, abs=1e-6)


def test_a_cost_falling_on_both_sides_of_a_bend_is_not_a_knee() -> None:
    # a series that falls steeply, then slowly: no growth bends anywhere
    falling = [-y for y in bent(USERS, 4000, PER_USER, PER_USER / 20)]
    knee = find_knee(USERS, falling)

    assert knee.verdict == "linear throughout"
    assert "falling on both sides" in knee.reason
    # while the same bend rising is a knee
    assert find_knee(USERS, [-y for y in falling]).verdict == "knee"


@pytest.mark.parametrize("at", [3000, 5000, 7000])
def test_a_bend_in_a_gap_with_two_points_each_side_is_located_in_it(at: int) -> None:
    knee = find_knee(USERS, bent(USERS, at, PER_USER, 4 * PER_USER))

    assert knee.verdict == "knee"
    assert knee.knee_at == pytest.approx(at)
    assert knee.slope_before == pytest.approx(PER_USER)
    assert knee.slope_after == pytest.approx(4 * PER_USER)


def test_a_bend_in_the_last_gap_lands_one_step_before_it() -> None:
    # a single point beyond the bend: no line there to meet, the nearest point is the break
    knee = find_knee(USERS, bent(USERS, 10000, PER_USER, 4 * PER_USER))

    assert knee.verdict == "knee"
    assert knee.knee_at == 8000
    assert knee.slope_before == pytest.approx(PER_USER)


def test_an_exact_line_is_linear_throughout_with_its_slope() -> None:
    knee = find_knee(USERS, [BASE + PER_USER * x for x in USERS])

    assert knee.verdict == "linear throughout"
    assert knee.line is not None
    assert knee.line.slope == pytest.approx(PER_USER)
    assert knee.knee_at is None
    assert knee.slope_before is None


def test_a_noisy_line_is_called_a_knee_in_at_most_five_percent_of_seeds() -> None:
    clean = [BASE + PER_USER * x for x in USERS]
    spread = max(clean) - min(clean)
    verdicts = [find_knee(USERS, noisy(clean, 0.02 * spread, seed)).verdict for seed in range(100)]

    assert verdicts.count("knee") <= 5
    assert verdicts.count("linear throughout") == 100 - verdicts.count("knee")


def test_a_monotone_line_with_a_small_real_bend_stays_linear() -> None:
    # the slope changes by 10 %: significant on exact data, too small to be a knee
    knee = find_knee(USERS, bent(USERS, 4000, PER_USER, 1.1 * PER_USER))

    assert knee.verdict == "linear throughout"
    assert knee.p_value is not None
    assert knee.p_value < 0.05
    assert knee.hinge is not None
    assert abs(knee.hinge.slope_after / knee.hinge.slope_before - 1) < MIN_SLOPE_CHANGE
    assert "under 25%" in knee.reason


def test_a_flat_series_is_linear_with_slope_zero() -> None:
    knee = find_knee(USERS, [BASE] * len(USERS))

    assert knee.verdict == "linear throughout"
    assert knee.line is not None
    assert knee.line.slope == 0.0
    assert knee.reason == "every point lies on one line"


def test_a_flat_noisy_series_is_linear_throughout_in_19_of_20_seeds() -> None:
    verdicts = [find_knee(USERS, noisy([BASE] * 5, 1000.0, seed)).verdict for seed in range(20)]

    assert verdicts.count("linear throughout") >= 19


@pytest.mark.parametrize("count", [0, 1, 3])
def test_fewer_than_four_points_cannot_test_a_bend(count: int) -> None:
    xs = USERS[:count]
    knee = find_knee(xs, bent(xs, 2000, PER_USER, 4 * PER_USER))

    assert knee.verdict == "too few points"
    assert knee.line is None
    assert f"{count} distinct points" in knee.reason


def test_repeated_user_counts_do_not_count_as_points() -> None:
    xs = [1000, 1000, 2000, 2000, 4000]
    knee = find_knee(xs, bent(xs, 2000, PER_USER, 4 * PER_USER))

    assert knee.verdict == "too few points"


def test_the_fit_needs_one_y_per_x() -> None:
    with pytest.raises(ValueError, match="one y per x"):
        find_knee([1, 2, 3, 4], [1.0, 2.0])


@pytest.mark.parametrize("f", [0.5, 3.0, 18.5, 58.5, 400.0])
def test_f_survival_matches_the_closed_forms_for_one_and_two_degrees_of_freedom(f: float) -> None:
    # F(1, d) is Student's t with d degrees of freedom, squared
    assert f_survival(f, 1, 1) == pytest.approx(1 - 2 / math.pi * math.atan(math.sqrt(f)))
    assert f_survival(f, 1, 2) == pytest.approx(1 - math.sqrt(f / (f + 2)))


def test_f_survival_at_its_ends() -> None:
    assert f_survival(0.0, 1, 2) == 1.0
    assert f_survival(math.inf, 1, 2) == 0.0


@pytest.mark.parametrize(("a", "b", "x"), [(2.0, 3.0, 0.3), (0.5, 0.5, 0.9), (5.0, 1.0, 0.6)])
def test_incomplete_beta_against_its_closed_forms(a: float, b: float, x: float) -> None:
    expected = {
        (2.0, 3.0): 6 * x**2 - 8 * x**3 + 3 * x**4,  # 12 times the integral of t (1 - t)^2
        (0.5, 0.5): 2 / math.pi * math.asin(math.sqrt(x)),
        (5.0, 1.0): x**5,
    }[(a, b)]
    assert incomplete_beta(a, b, x) == pytest.approx(expected)
