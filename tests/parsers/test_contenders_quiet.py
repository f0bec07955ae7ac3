"""What the contenders' native libraries do behind their backends: a refused message is
classified without a word on stderr, and libfyaml's heap, which memray cannot follow, is
declared not measurable, with the evidence for why."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from treasure.parsers import discover

pytest.importorskip("ryml", reason="the contenders extra: pip install '.[contenders]'")

# messages every contender's library refuses (no alias, tag or duplicate: the fast path
# hands them to the library), each a syntax fault by the definition
REFUSED = [
    b"event_type: [a\nplayer_id: p\nsession_id: s\n",
    b"event_type: login\nplayer_id: p-1\nsession_id: s-1\n  region: eu\n",
    b'event_type: "a\nplayer_id: p\nsession_id: s\n',
]
AFTER = "C stderr works after the parse\n"


def run_python(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", textwrap.dedent(script), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("name", ["rapidyaml", "libfyaml", "pyrs-yaml"])
def test_a_refused_message_is_classified_without_a_word_on_stderr(name: str) -> None:
    # given a fresh process routing messages its library refuses, then writing to C's
    # stderr itself (so a stream left pointing at /dev/null would show as well)
    done = run_python(
        """
        import ctypes, json, sys
        from treasure.parsers import Limits, ParseError, create
        backend = create(sys.argv[1], Limits())
        categories = []
        for payload in json.loads(sys.argv[2]):
            try:
                backend.route(payload.encode())
            except ParseError as exc:
                categories.append(exc.category.value)
        libc = ctypes.CDLL(None)
        libc.fputs(sys.argv[3].encode(), ctypes.c_void_p.in_dll(libc, "stderr"))
        libc.fflush(None)
        print(json.dumps({"categories": categories, "fallbacks": backend.fallbacks}))
        """,
        name,
        json.dumps([payload.decode() for payload in REFUSED]),
        AFTER,
    )
    # then each is the classified fault, by the fallback, and stderr holds only our line
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "categories": ["syntax"] * len(REFUSED),
        "fallbacks": len(REFUSED),
    }
    assert done.stderr == AFTER


def test_libfyaml_heap_is_declared_not_measurable() -> None:
    info = discover()["libfyaml"]
    assert not info.heap_measurable
    assert "mremap" in info.heap_note


def test_memray_counts_libfyaml_mappings_as_kept_while_rss_stays_flat(tmp_path: Path) -> None:
    # why it is declared: libfyaml maps 64 KiB blocks, shrinks them with mremap (which
    # memray does not hook) and unmaps what is left; memray sees the maps, and the unmaps
    # of the shrunk remainder only
    calls = 200
    done = run_python(
        """
        import json, os, sys
        import libfyaml, memray

        capture, calls = sys.argv[1], int(sys.argv[2])
        text = "event_type: login\\nplayer_id: p-1\\nsession_id: s-1\\nitems: [a, b]\\n"
        page = os.sysconf("SC_PAGE_SIZE")

        def rss():
            with open("/proc/self/statm") as statm:
                return int(statm.read().split()[1]) * page

        def load(count):
            for _ in range(count):
                libfyaml.loads(text).to_python()

        load(50)
        before = rss()
        load(calls)
        untracked = rss() - before
        with memray.Tracker(capture):
            load(calls)
        mapped = unmapped = 0
        for record in memray.FileReader(capture).get_allocation_records():
            if record.allocator == memray.AllocatorType.MMAP:
                mapped += record.size
            elif record.allocator == memray.AllocatorType.MUNMAP:
                unmapped += record.size
        print(json.dumps({"mapped": mapped, "unmapped": unmapped, "rss": untracked}))
        """,
        str(tmp_path / "libfyaml.memray"),
        str(calls),
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    per_call_kept = (seen["mapped"] - seen["unmapped"]) / calls
    assert seen["mapped"] >= calls * 64 * 1024  # at least one 64 KiB block a load
    assert seen["unmapped"] <= seen["mapped"] / 8  # a shrunk remainder of each
    assert per_call_kept >= 56 * 1024  # what memray would report as retained
    assert seen["rss"] < calls * per_call_kept / 20  # what the kernel says is kept
