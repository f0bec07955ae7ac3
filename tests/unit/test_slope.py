"""Growth per message on synthetic sample series: the slope's interval, its block length and
the verdict read from the interval, apart from any process (the soak's real runs are in
tests/integration/test_soak.py)."""

from __future__ import annotations

import random

import pytest

from treasure.growth.slope import MIN_SAMPLES, TooFewSamples, block_length, fit_growth, verdict_of

Points = list[tuple[int, int]]
STEP = 256  # messages between samples
SAMPLES = 120
RESAMPLES = 500  # enough for a 95 % interval's ends, cheap enough for 20 runs a test


def staircase(leak: int, every: int) -> Points:
    """A heap that gains `leak` bytes on every `every`-th message, sampled every STEP."""
    return [(i * STEP, 8_000_000 + leak * (i * STEP // every + 1)) for i in range(SAMPLES)]


def noisy(seed: int, slope: float, sigma: float, rho: float = 0.0) -> Points:
    """A line of `slope` bytes per message plus AR(1) noise (sigma per step, rho)."""
    rng = random.Random(seed)
    noise, points = 0.0, []
    for i in range(SAMPLES):
        noise = rho * noise + rng.gauss(0, sigma)
        points.append((i * STEP, round(8_000_000 + slope * i * STEP + noise)))
    return points


def test_an_exact_leak_every_kth_message_is_inside_the_interval_and_zero_is_not() -> None:
    # given a heap that grows by a 4,112-byte chunk every 7th message
    fit = fit_growth("heap", staircase(4112, 7), floor=1.0, resamples=RESAMPLES)
    # then the interval holds 4112/7 and excludes 0, and the verdict is growing
    assert fit.low <= 4112 / 7 <= fit.high
    assert fit.low > 0
    assert fit.verdict == "growing"
    assert fit.samples == SAMPLES


def test_a_flat_series_is_flat_in_at_least_19_of_20_seeded_runs() -> None:
    # given 20 flat series with 2 KiB of noise per sample (heap churn)
    verdicts = [
        fit_growth("heap", noisy(seed, 0.0, 2048), 1.0, seed=seed, resamples=RESAMPLES).verdict
        for seed in range(20)
    ]
    # then at least 19 say flat, and none says growing
    assert verdicts.count("flat") >= 19, verdicts
    assert "growing" not in verdicts


def test_a_leak_below_the_detection_limit_is_never_flat() -> None:
    # given 20 series leaking 0.5 B per message under 64 KiB of noise per sample: the
    # interval's half-width (the detection limit) is several bytes per message
    fits = [
        fit_growth("heap", noisy(seed, 0.5, 65536), 1.0, seed=seed, resamples=RESAMPLES)
        for seed in range(20)
    ]
    # then none is flat; nearly all say they cannot tell (a leak there is, so "growing" is
    # no false claim, only a lucky one), each stating a resolution above the leak
    verdicts = [fit.verdict for fit in fits]
    assert "flat" not in verdicts
    assert verdicts.count("can't tell") >= 18, verdicts
    assert all(fit.resolution > 0.5 for fit in fits)


def test_a_noisy_flat_series_is_not_called_flat_when_the_noise_hides_more_than_the_floor() -> None:
    # given a flat series whose noise makes the interval far wider than the 1 B floor
    fit = fit_growth("heap", noisy(3, 0.0, 65536), 1.0, resamples=RESAMPLES)
    # then the resolution is the interval's half-width and the verdict can't tell
    assert fit.resolution == pytest.approx((fit.high - fit.low) / 2)
    assert fit.resolution > 1.0
    assert fit.verdict == "can't tell"


def test_the_interval_widens_with_autocorrelated_noise() -> None:
    # given the same noise per step, independent and strongly autocorrelated
    white = fit_growth("heap", noisy(1, 0.0, 1024, rho=0.0), 1.0, resamples=RESAMPLES)
    dependent = fit_growth("heap", noisy(1, 0.0, 1024, rho=0.9), 1.0, resamples=RESAMPLES)
    # then the dependent series gets longer blocks and a wider interval
    assert dependent.block_length > white.block_length
    assert dependent.high - dependent.low > 2 * (white.high - white.low)


def test_the_same_series_and_seed_give_the_same_interval() -> None:
    points = noisy(5, 2.0, 4096)
    first = fit_growth("heap", points, 1.0, seed=7, resamples=RESAMPLES)
    again = fit_growth("heap", points, 1.0, seed=7, resamples=RESAMPLES)
    assert (first.low, first.high) == (again.low, again.high)


@pytest.mark.parametrize(
    ("low", "high", "verdict"),
    [
        (2.0, 3.0, "growing"),  # lower bound above the resolution
        (-0.5, 0.5, "flat"),  # inside ±resolution
        (0.5, 1.5, "can't tell"),  # growth seen, but not beyond the resolution
        (-3.0, 0.5, "can't tell"),  # too wide
        (-3.0, -2.0, "can't tell"),  # shrinking beyond the resolution is not flat
    ],
)
def test_the_verdict_comes_from_the_interval_alone(low: float, high: float, verdict: str) -> None:
    assert verdict_of(low, high, resolution=1.0)[0] == verdict


def test_too_few_samples_give_no_slope() -> None:
    with pytest.raises(TooFewSamples, match="at least"):
        fit_growth("heap", staircase(16, 1)[: MIN_SAMPLES - 1], 1.0)


def test_block_length_stays_between_the_cube_root_and_a_quarter() -> None:
    # given residuals that never decorrelate (a ramp) and ones that are white
    ramp = [float(i) for i in range(64)]
    rng = random.Random(0)
    white = [rng.gauss(0, 1) for _ in range(64)]
    assert block_length(ramp) == 16  # n/4
    assert block_length(white) == 4  # n^(1/3)
