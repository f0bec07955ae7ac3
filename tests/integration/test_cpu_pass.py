"""The CPU pass for real: py-spy records a replay worker, the profile names the backend's
functions, and the backend share separates a backend's time from the harness's."""

from __future__ import annotations

import math
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import ClassVar

import msgspec
import pytest
from tests.conftest import EVENT_MESSAGE, MakeRecording

from treasure.parsers import BackendKind, Limits, Routed
from treasure.passes.cpu import run_cpu_pass
from treasure.probes.cpu import (
    Speedscope,
    SpeedscopeFrame,
    SpeedscopeProfile,
    SpeedscopeShared,
    analyse,
    explain_failure,
    find_py_spy,
    frame_label,
    function_name,
    machine_ptrace_refusal,
    ptrace_refusal,
    read_speedscope,
)
from treasure.results import CpuSummary, ReplayConfig
from treasure.routing import DEFAULT_ROUTING, RoutingSpec
from treasure.runner.replay import run_replay

BUSY_BACKEND = "tests.integration.test_cpu_pass:FixedWork"
NO_OP_BACKEND = "tests.groundtruth.timing:NoOp"  # returns at once: the loop is all harness
RATE_HZ = 250  # more samples from short replays than the default
NO_OP_MESSAGES = 150_000  # the no-op loop's ~0.3 s: ~50 of its samples at RATE_HZ
RECORD: Routed = ("ground.truth", "p-0", "s-0")


class FixedWork:
    """A fixed amount of CPU work per message (0.1-0.3 ms), in this module's own code.

    Not a spin on the clock: py-spy pauses the process for each sample, and a spin that
    waits for a deadline would spend the pause instead of its work."""

    name: ClassVar[str] = "fixed-work"
    kind: ClassVar[BackendKind] = BackendKind.PLUGIN
    library: ClassVar[str] = ""

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        self.limits = limits

    def route(self, payload: bytes) -> Routed:
        for _ in range(10_000):
            pass
        return RECORD


def messages_lasting(seconds: float) -> int:
    """How many FixedWork messages last about `seconds` of CPU on this machine (its speed
    differs threefold between machines), timed on 200 calls; at least 2,000."""
    work = FixedWork(limits=Limits())
    started = time.process_time()
    for _ in range(200):
        work.route(EVENT_MESSAGE)
    per_message = max((time.process_time() - started) / 200, 1e-6)
    return max(2000, math.ceil(seconds / per_message))


@pytest.fixture
def py_spy_may_attach() -> None:
    if find_py_spy() is None:
        pytest.skip("py-spy is not installed next to this Python or on PATH")
    refusal = machine_ptrace_refusal()
    if refusal:
        pytest.skip(f"py-spy cannot attach on this machine: {refusal}")


@pytest.fixture
def recording(make_recording: MakeRecording) -> Path:
    return make_recording([EVENT_MESSAGE] * 1500)


def profile(backend: str, recording: Path, artefacts: Path) -> CpuSummary:
    config = ReplayConfig(
        backend=backend, recording=str(recording), warmup=50, cpu=True, cpu_rate_hz=RATE_HZ
    )
    config_path = artefacts.with_name(f"{artefacts.name}-config.json")
    config_path.write_bytes(msgspec.json.encode(config))
    summary = run_cpu_pass(config, config_path, artefacts, timing_seconds=1.0)
    assert summary.profiled, summary.reason
    return summary


@pytest.mark.integration
@pytest.mark.usefixtures("py_spy_may_attach")
def test_profile_names_the_pyyaml_loader_and_constructor(recording: Path, tmp_path: Path) -> None:
    # given a real DOM backend
    # when its replay runs under py-spy
    summary = profile("pyyaml-dom", recording, tmp_path / "artefacts")
    # then the speedscope profile holds the backend's load and PyYAML's construction frames
    frames = read_speedscope(Path(summary.artefacts["cpu_speedscope"])).shared.frames
    labels = {frame_label(frame) for frame in frames}
    assert any(label.endswith("._parse (treasure/parsers/pyyaml_dom.py)") for label in labels)
    assert any("construct" in label and "yaml/constructor.py" in label for label in labels)
    # and most of the loop's samples sit in the backend
    assert summary.samples >= summary.loop_samples >= summary.backend_samples > 0
    assert summary.backend_share > 0.5
    assert any(inside for _, _, inside in summary.hot_functions)


@pytest.mark.integration
@pytest.mark.usefixtures("py_spy_may_attach")
def test_flamegraph_is_svg_drawn_from_the_same_samples(recording: Path, tmp_path: Path) -> None:
    # given a profiled replay
    summary = profile("pyyaml-dom", recording, tmp_path / "artefacts")
    # when the flamegraph is read back as XML
    svg = ET.parse(summary.artefacts["cpu_flamegraph"]).getroot()
    # then it is an SVG whose root frame counts every sample and shows PyYAML's frames
    titles = [title.text or "" for title in svg.iter("{http://www.w3.org/2000/svg}title")]
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert titles[0].startswith(f"all samples: {summary.samples} samples")
    assert any("yaml/constructor.py" in title for title in titles)


@pytest.mark.integration
@pytest.mark.usefixtures("py_spy_may_attach")
def test_backend_share_tells_a_busy_backend_from_an_idle_one(
    recording: Path, make_recording: MakeRecording, tmp_path: Path
) -> None:
    # given a backend doing ~0.3 ms of work per message, and one that returns at once over
    # enough messages for its loop to be sampled ~50 times (over the 1,500 of the busy one's
    # recording the no-op loop lasts a few ms: 4-20 samples, a share read from a handful)
    long = make_recording([EVENT_MESSAGE] * NO_OP_MESSAGES, name="long.trec")
    # when both replays are profiled
    busy = profile(BUSY_BACKEND, recording, tmp_path / "busy")
    no_op = profile(NO_OP_BACKEND, long, tmp_path / "no-op")
    # then the busy backend owns nearly all the loop's samples (the harness costs a few µs
    # per message; on a loaded machine preemption lands some samples in harness frames)
    # and the idle one far less: its loop is nearly all harness (~0.02 here)
    assert no_op.loop_samples >= 20, no_op
    assert busy.backend_share > 0.85
    assert no_op.backend_share < 0.5
    busy_interval, no_op_interval = busy.share_interval, no_op.share_interval
    assert busy_interval is not None
    assert no_op_interval is not None
    assert no_op_interval[1] < busy_interval[0]  # told apart at 95 % confidence
    # and the overhead figures are filled in
    assert busy.loop_ns > 0
    assert busy.pass_seconds > 0


@pytest.mark.integration
@pytest.mark.usefixtures("py_spy_may_attach")
def test_replay_with_cpu_keeps_the_profile_beside_the_timing_figures(
    recording: Path, tmp_path: Path
) -> None:
    # given a replay asked for a CPU pass
    config = ReplayConfig(backend="pyyaml-stream", recording=str(recording), warmup=50, cpu=True)
    # when it runs end to end
    result = run_replay(config, artefact_dir=tmp_path / "artefacts")
    # then the CPU pass is a separate pass whose artefacts the result lists
    assert result.cpu is not None
    assert result.cpu.profiled, result.cpu.reason
    assert result.cpu.timing_pass_seconds > 0
    assert Path(result.artefacts["cpu_speedscope"]).is_file()
    assert Path(result.artefacts["cpu_flamegraph"]).is_file()
    assert result.latency is not None


# -- without py-spy: the rules it is judged by -------------------------------------------

ROOTS = ("/venv/site-packages/yaml/",)


def frame(name: str, file: str) -> SpeedscopeFrame:
    return SpeedscopeFrame(name=name, file=file, line=1)


def test_backend_share_counts_loop_samples_with_a_backend_frame() -> None:
    # given frames of start-up, the loop, the latency summary, the harness and the backend
    frames = [
        frame("<module>", "/src/treasure/passes/worker.py"),
        frame("run_timing_pass", "/src/treasure/passes/timing.py"),
        frame("summarize", "/src/treasure/probes/latency.py"),
        frame("_frames", "/src/treasure/recordings.py"),
        frame("load", "/venv/site-packages/yaml/__init__.py"),
        frame("yaml_parser_parse", "/io/libyaml/src/parser.c"),
        frame("PyObject_Malloc", "libpython3.11.so"),
    ]
    stacks = [
        [0],  # start-up: left out
        [0, 1, 2],  # summarising after the loop: left out
        [0, 1, 3],  # reading a frame: harness
        [0, 1],  # the loop's own line: harness
        [0, 1, 4, 6],  # malloc called by the backend: backend
        [0, 1, 5],  # a native libyaml symbol: backend
        [],  # an empty stack: left out
    ]
    profile = Speedscope(
        shared=SpeedscopeShared(frames=frames), profiles=[SpeedscopeProfile(samples=stacks)]
    )
    # when the samples are analysed
    figures = analyse(profile, ROOTS)
    # then 2 of the 4 loop samples are the backend's
    assert (figures.samples, figures.loop_samples, figures.backend_samples) == (7, 4, 2)
    assert ("_frames (treasure/recordings.py)", 1, False) in figures.hot_functions


@pytest.mark.parametrize(
    ("scope", "capabilities", "refused"),
    [
        (None, 0, False),  # no Yama: a parent may trace its child
        (1, 0, False),  # restricted: py-spy is the worker's parent
        (2, 0, True),  # admin-only without CAP_SYS_PTRACE
        (2, 1 << 19, False),  # admin-only with CAP_SYS_PTRACE
        (3, 1 << 19, True),  # no attach at all
    ],
)
def test_ptrace_refusal_follows_yama_and_capabilities(
    scope: int | None, capabilities: int, refused: bool
) -> None:
    # given a Yama scope and effective capabilities
    # when asked whether py-spy may attach
    reason = ptrace_refusal(scope, capabilities)
    # then it is refused exactly where the kernel would refuse
    assert bool(reason) is refused


def test_a_permission_error_from_py_spy_says_how_to_fix_it() -> None:
    # given what py-spy prints when the kernel refuses it (py-spy's main.rs)
    stderr = "Permission Denied: Try running again with elevated permissions by going 'sudo !!'"
    # when it is explained
    reason = explain_failure(stderr)
    # then the one line names ptrace and the fix
    assert "\n" not in reason
    assert "ptrace" in reason
    assert "SYS_PTRACE" in reason
    assert "ptrace_scope" in reason


def test_other_py_spy_errors_keep_their_first_error_line() -> None:
    # given a py-spy failure that is not about permissions
    stderr = "Error: Failed to find python version from target process\n\nStack backtrace:\n 0: x"
    # when it is explained
    reason = explain_failure(stderr)
    # then its error line is kept
    assert reason.startswith("py-spy failed: Error: Failed to find python version")


def test_rust_symbols_read_back_without_mangling() -> None:
    # given a legacy-mangled Rust symbol as py-spy reports it
    mangled = "granit_parser::scanner::Scanner$LT$T$GT$::fetch_more_tokens::had1a6cbdcbea37cf"
    # when it is labelled
    # then generics are restored and the hash dropped
    assert function_name(mangled) == "granit_parser::scanner::Scanner<T>::fetch_more_tokens"


@pytest.mark.integration
@pytest.mark.usefixtures("py_spy_may_attach")
def test_cpu_share_of_a_busy_backend_is_its_share_of_the_clock(
    make_recording: MakeRecording, tmp_path: Path
) -> None:
    # given a backend doing 0.1-0.3 ms of pure-Python work per message, profiled at 500 Hz
    # over enough messages for ~6 s of it (~3,000 loop samples)
    recording = make_recording([EVENT_MESSAGE] * messages_lasting(6.0))
    config = ReplayConfig(
        backend=BUSY_BACKEND, recording=str(recording), warmup=50, cpu=True, cpu_rate_hz=500
    )
    # when the CPU pass runs
    config_path = tmp_path / "share-config.json"
    config_path.write_bytes(msgspec.json.encode(config))
    cpu = run_cpu_pass(config, config_path, tmp_path / "share", timing_seconds=1.0)
    # then the samples' 95 % interval holds their share, and the share is the share of the
    # loop's clock spent in backend calls (the same profiled run's clock reads) within 8
    # points: measured 1-6 points apart on 2 shared cores, the gap growing with the load
    assert cpu.profiled, cpu.reason
    assert cpu.loop_samples >= 2000
    assert cpu.clock_share is not None
    assert cpu.share_interval is not None
    low, high = cpu.share_interval
    assert low <= cpu.backend_share <= high
    assert high - low < 0.04  # 2,000+ samples: the interval is narrower than the gap allowed
    assert abs(cpu.backend_share - cpu.clock_share) <= 0.08, (cpu.clock_share, cpu.share_interval)
