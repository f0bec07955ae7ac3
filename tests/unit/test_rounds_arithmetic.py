"""The arithmetic of interleaved rounds: orders, slices, and the order-statistic interval."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from treasure.probes.rounds import median_interval, median_rank_bounds, ratios, rotation
from treasure.runner.rounds import block_sizes


def test_each_backend_goes_first_equally_often_and_every_round_has_all() -> None:
    backends = ["a", "b", "c"]
    orders = [rotation(backends, r) for r in range(9)]
    assert Counter(order[0] for order in orders) == {"a": 3, "b": 3, "c": 3}
    assert all(sorted(order) == backends for order in orders)
    assert orders[:3] == [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"]]


@pytest.mark.parametrize(
    ("rounds", "expected"),
    [
        (5, None),  # even the extremes of 5 bracket the median only 93.75 % of the time
        (6, (1, 6, 1 - 2 / 64)),
        (9, (2, 8, 1 - 2 * 10 / 512)),
        (10, (2, 9, 1 - 2 * 11 / 1024)),
        (20, (6, 15, 1 - 2 * sum(math.comb(20, i) for i in range(6)) / 2**20)),
    ],
)
def test_rank_bounds_are_the_narrowest_with_95_percent(
    rounds: int, expected: tuple[int, int, float] | None
) -> None:
    assert median_rank_bounds(rounds) == expected


def test_the_interval_covers_the_median_as_often_as_it_says() -> None:
    # given rounds drawn from a skewed distribution whose median is known (exponential: ln 2)
    draw = random.Random(7)
    truth = math.log(2)
    trials, covered = 4000, 0
    for _ in range(trials):
        found = median_interval([draw.expovariate(1.0) for _ in range(10)])
        assert found is not None
        _, low, high, coverage = found
        covered += low <= truth <= high
    # then its coverage is the binomial one, 97.85 %, whatever the distribution
    assert coverage == pytest.approx(0.978515625)
    assert covered / trials == pytest.approx(coverage, abs=0.01)


def test_too_few_rounds_give_no_interval() -> None:
    assert median_interval([1.0, 2.0, 3.0]) is None


def test_slices_cover_every_message_once() -> None:
    assert block_sizes(25, 10) == [2, 3, 2, 3, 2, 3, 2, 3, 2, 3]
    assert sum(block_sizes(1001, 7)) == 1001
    assert block_sizes(3, 3) == [1, 1, 1]


def test_a_ratio_is_the_baselines_time_over_the_others() -> None:
    assert ratios([300.0, 600.0], [100.0, 200.0]) == [3.0, 3.0]
