"""--baseline names a compared backend by the name it was given or the name it declares."""

from __future__ import annotations

import pytest
from tests.conftest import EVENT_MESSAGE, MakeRecording

from treasure.results import ReplayConfig
from treasure.runner.compare import run_compare

SPIN = "tests.groundtruth.timing:Spin100us"  # declares name "spin-100us"
NO_OP = "tests.groundtruth.timing:NoOp"  # declares name "no-op"


@pytest.mark.integration
@pytest.mark.parametrize(
    ("given", "note"), [(SPIN, f"{SPIN} runs as spin-100us"), ("spin-100us", "")]
)
def test_a_module_class_baseline_matches_by_either_name(
    make_recording: MakeRecording, given: str, note: str
) -> None:
    # given a comparison of two module:Class backends that declare their own names
    recording = make_recording([EVENT_MESSAGE] * 40)
    template = ReplayConfig(backend="", recording=str(recording), warmup=0, heap=False)
    # when the baseline is named either way
    result = run_compare(template, [NO_OP, SPIN], baseline=given)
    # then the ratios are against it, named as its runs are, and what was passed is kept
    assert result.baseline in [run.backend for run in result.runs]
    assert (result.baseline, result.baseline_requested) == ("spin-100us", given)
    assert result.baseline_note == note


@pytest.mark.integration
def test_a_baseline_not_compared_is_said_not_silently_replaced(
    make_recording: MakeRecording,
) -> None:
    recording = make_recording([EVENT_MESSAGE] * 40)
    template = ReplayConfig(backend="", recording=str(recording), warmup=0, heap=False)
    result = run_compare(template, [NO_OP, SPIN], baseline="pyyaml-dom")
    assert (result.baseline, result.baseline_requested) == ("no-op", "pyyaml-dom")
    assert result.baseline_note == "pyyaml-dom was not compared: ratios are against no-op"
