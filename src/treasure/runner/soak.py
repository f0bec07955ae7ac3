"""`treasure soak`: one backend replayed for a message count or a duration in its own worker
process (`passes.soak`), then growth per message fitted after the warm-up (`growth.soak`)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import msgspec

from treasure.errors import ConfigError, TreasureError
from treasure.growth.soak import judge
from treasure.passes.launch import PassProgress, run_worker
from treasure.results import ReplayConfig, RunResult, save
from treasure.runner.replay import check_inputs


def run_soak(
    config: ReplayConfig, *, output: Path | None = None, progress: PassProgress | None = None
) -> RunResult:
    """Soak `config.backend`; the result (saved to `output` when given) holds the samples,
    each series' slope with its interval and the verdict. A run stopped by its --until guard
    is saved too, with the reason and where it stopped."""
    soak = config.soak
    if soak is None:
        raise ConfigError("soak", "a soak needs its options (messages or duration)")
    if config.served:
        raise TreasureError("a soak runs the backend in process: --transport is not supported")
    check_inputs(config)
    with tempfile.TemporaryDirectory(prefix="treasure-soak-") as scratch:
        config_path = Path(scratch) / "config.json"
        config_path.write_bytes(msgspec.json.encode(config))
        finished = run_worker("soak", config_path, config, progress)
    result = msgspec.json.decode(finished.figures, type=RunResult)
    result.config = config
    if result.soak is None or result.messages == 0:
        raise TreasureError(f"{config.backend}: the soak measured no message")
    judge(result.soak, soak)
    if output is not None:
        save(result, output)
    return result
