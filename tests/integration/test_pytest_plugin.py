"""The pytest plugin: a team's own test suite holds a heap budget through a marker."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import EVENT_MESSAGE

pytest_plugins = ["pytester"]


def test_a_misspelled_limit_is_reported_before_anything_runs(pytester: pytest.Pytester) -> None:
    # given a marker with a unit nobody writes
    pytester.makepyfile("""
        import pytest

        @pytest.mark.limit_heap_per_message("32 parsecs", backend="pyyaml-dom",
                                            recording="none.trec")
        def test_heap():
            pass
    """)
    # when run with --strict-markers / then the marker is known and its argument refused
    outcome = pytester.runpytest("--strict-markers")
    outcome.assert_outcomes(errors=1)
    outcome.stdout.fnmatch_lines(["*limit_heap_per_message: unknown unit 'parsecs'*"])


def test_the_marker_is_documented(pytester: pytest.Pytester) -> None:
    outcome = pytester.runpytest("--markers")
    assert outcome.ret == 0
    outcome.stdout.fnmatch_lines(["@pytest.mark.limit_heap_per_message(limit, *, backend*"])


@pytest.mark.integration
def test_a_heap_budget_fails_like_an_assertion_and_one_within_passes(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    from treasure.recordings import RecordingWriter

    # given a recording and two budgets on the same backend: one far below, one far above
    recording = tmp_path / "plugin.trec"
    with RecordingWriter(recording, metadata={"scenario": "plugin", "users": 2}) as writer:
        for index in range(400):
            writer.write(index, f"p-{index % 2}", EVENT_MESSAGE)
    pytester.makepyfile(f"""
        import pytest

        RECORDING = {str(recording)!r}

        @pytest.mark.limit_heap_per_message("1 KiB", backend="pyyaml-dom",
                                            recording=RECORDING, messages=150)
        def test_too_tight():
            pass

        @pytest.mark.limit_heap_per_message("64 MiB", backend="pyyaml-dom",
                                            recording=RECORDING, messages=150)
        def test_roomy():
            pass
    """)
    # when the suite runs
    outcome = pytester.runpytest("--strict-markers")
    # then the tight budget fails with measured vs allowed, the roomy one passes
    outcome.assert_outcomes(passed=1, failed=1)
    outcome.stdout.fnmatch_lines([
        "*heap budget broken: heap per message, peak p50 of pyyaml-dom on plugin.trec: "
        "measured * KiB > allowed 1.0 KiB ('1 KiB', * messages traced)*",
    ])  # fmt: skip


def test_an_unknown_backend_or_a_missing_recording_is_one_line(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    # given one marker naming a backend nobody registered and one naming no file
    recording = tmp_path / "one.trec"
    from treasure.recordings import RecordingWriter

    with RecordingWriter(recording, metadata={"scenario": "one", "users": 1}) as writer:
        writer.write(0, "p-0", EVENT_MESSAGE)
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.limit_heap_per_message("1 MiB", backend="no-such-router",
                                            recording={str(recording)!r})
        def test_unknown_backend():
            pass

        @pytest.mark.limit_heap_per_message("1 MiB", backend="pyyaml-dom",
                                            recording="missing/none.trec")
        def test_missing_recording():
            pass
    """)
    # when the suite runs
    outcome = pytester.runpytest("--strict-markers")
    # then both fail with one line each, and no traceback through treasure's code
    outcome.assert_outcomes(failed=2)
    outcome.stdout.fnmatch_lines([
        "*limit_heap_per_message: unknown backend 'no-such-router'*",
        "*limit_heap_per_message: recording not found: *missing/none.trec*",
    ])  # fmt: skip
    shown = outcome.stdout.str()
    assert "Traceback" not in shown
    assert "site-packages" not in shown
    assert "src/treasure" not in shown


@pytest.mark.integration
def test_a_passing_budget_shows_its_figure_and_leaves_no_capture_behind(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    from treasure.recordings import RecordingWriter

    # given a private temporary folder and a budget that holds
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    recording = tmp_path / "roomy.trec"
    with RecordingWriter(recording, metadata={"scenario": "roomy", "users": 2}) as writer:
        for index in range(200):
            writer.write(index, f"p-{index % 2}", EVENT_MESSAGE)
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.limit_heap_per_message("64 MiB", backend="pyyaml-dom",
                                            recording={str(recording)!r}, messages=100)
        def test_roomy():
            pass
    """)
    # when the suite runs
    outcome = pytester.runpytest("--strict-markers")
    # then it passes, the summary shows the measured figure against the allowed one
    outcome.assert_outcomes(passed=1)
    outcome.stdout.fnmatch_lines([
        "*treasure heap budgets*",
        "*test_roomy: heap per message, peak p50 of pyyaml-dom on roomy.trec: "
        "measured * KiB <= allowed 64.0 MiB",
    ])  # fmt: skip
    # and the heap capture it wrote is gone
    assert [p.name for p in temporary.iterdir() if p.name.startswith("treasure-heap-")] == []
