"""Scenarios: loading and validation, and the generator's output and determinism."""

from __future__ import annotations

import statistics
import tracemalloc
from pathlib import Path

import pytest
import yaml

from treasure.errors import ScenarioError
from treasure.generator import MessageGenerator, generate_recording
from treasure.recordings import open_recording
from treasure.scenarios import load_scenario, parse_scenario, scenario_names

ROUTING = ("event_type", "player_id", "session_id")

MINIMAL = """
name: tiny
users: 5
events: {move: 3, chat: 1}
pacing: {rate_per_s: 10, count: 40}
"""


def test_the_built_in_scenarios_load() -> None:
    assert {"smoke", "blowup-12k", "soak-50k"} <= set(scenario_names())

    smoke, blowup, soak = (load_scenario(n) for n in ("smoke", "blowup-12k", "soak-50k"))

    assert (smoke.users, smoke.count) == (20, 200)
    assert blowup.users == 12_000
    assert 20_000 <= blowup.count <= 30_000
    assert soak.count == 50_000 * 30 * 60


def test_a_name_prefers_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "smoke.yaml").write_text(MINIMAL.replace("tiny", "local-smoke"))
    monkeypatch.chdir(tmp_path)

    assert load_scenario("smoke").name == "local-smoke"


def test_a_path_is_used_as_given(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(MINIMAL)

    scenario = load_scenario(str(path))

    assert scenario.name == "tiny"
    assert scenario.count == 40
    assert scenario.payload.target_bytes == 512  # defaults fill what the file leaves out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINIMAL.replace("users: 5", "users: 0"), r"users"),
        (MINIMAL.replace("users: 5", "users: many"), r"Expected `int`, got `str` - at `\$.users`"),
        (MINIMAL.replace("move: 3", "'on': 3"), r"events: 'on' is not a plain lowercase name"),
        (MINIMAL.replace("move: 3", "move: -1"), r"events"),
        (MINIMAL + "colour: red\n", r"unknown field `colour`"),
        (MINIMAL.replace(", count: 40", ""), r"pacing: give either count or duration_s"),
        (MINIMAL + "shape: {tags: [4, 1]}\n", r"shape.tags: \[min, max\] has min 4 above max 1"),
        (MINIMAL + "aliases: {anchors: 0.7, merge_keys: 0.6}\n", r"must not exceed 1.0"),
        ("- a list\n", r"a scenario is a YAML mapping"),
        ("name: [unclosed\n", r"not valid YAML"),
    ],
)
def test_invalid_scenarios_get_a_message_naming_the_problem(text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message) as caught:
        parse_scenario(text, "bad.yaml")

    assert str(caught.value).startswith("bad.yaml: ")


def test_an_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ScenarioError, match=r"unknown scenario 'nope' \(known: .*smoke"):
        load_scenario("nope")


@pytest.mark.parametrize("name", ["smoke", "blowup-12k", "soak-50k"])
def test_every_message_loads_and_holds_the_routing_fields_as_strings(name: str) -> None:
    # given a built-in scenario's generator
    scenario = load_scenario(name)
    generator = MessageGenerator(scenario)

    # when 2,000 messages are generated
    messages = list(generator.messages(2_000))

    # then each is YAML a safe loader reads into the contract's message shape
    first_keys = set()
    for _, user_id, payload in messages:
        document = yaml.load(payload, Loader=yaml.CSafeLoader)
        assert all(type(document[field]) is str for field in ROUTING), payload
        assert document["player_id"] == user_id
        assert document["event_type"] in scenario.events
        assert set(document) == {*ROUTING, "ts", "position", "inventory", "tags"}
        assert set(document["position"]) == {"x", "y", "z", "zone"}
        assert all(isinstance(item["attrs"], dict) for item in document["inventory"])
        first_keys.add(next(iter(document)))
    assert len(first_keys) == 7  # routing fields are not always first


def test_blowup_messages_average_about_512_bytes_with_a_share_of_aliases() -> None:
    scenario = load_scenario("blowup-12k")

    payloads = [payload for _, _, payload in MessageGenerator(scenario).messages(10_000)]

    assert statistics.mean(map(len, payloads)) == pytest.approx(512, rel=0.05)
    anchors = sum(b"*attrs" in p for p in payloads) / len(payloads)
    merges = sum(b"<<: *base" in p for p in payloads) / len(payloads)
    assert anchors == pytest.approx(scenario.aliases.anchors, abs=0.01)
    assert merges == pytest.approx(scenario.aliases.merge_keys, abs=0.01)


def test_users_timestamps_and_mix_follow_the_scenario() -> None:
    scenario = load_scenario("smoke")

    messages = list(MessageGenerator(scenario).messages())

    assert len(messages) == scenario.count
    users = {user for _, user, _ in messages}
    assert users <= {f"p-{u:06d}" for u in range(scenario.users)}
    assert len(users) == scenario.users
    step = 1_000_000_000 // int(scenario.pacing.rate_per_s)
    assert [ts for ts, _, _ in messages] == [
        scenario.start_ns + i * step for i in range(scenario.count)
    ]
    moves = sum(b"event_type: move\n" in p for _, _, p in messages) / len(messages)
    assert moves == pytest.approx(scenario.events["move"] / sum(scenario.events.values()), abs=0.1)


def test_the_same_seed_gives_byte_identical_recordings(tmp_path: Path) -> None:
    scenario = load_scenario("blowup-12k")

    first = generate_recording(scenario, tmp_path / "a.trec", count=3_000)
    second = generate_recording(scenario, tmp_path / "b.trec", count=3_000)
    generate_recording(scenario, tmp_path / "c.trec", count=3_000, seed=99)

    assert first.frames == second.frames == 3_000
    assert (tmp_path / "a.trec").read_bytes() == (tmp_path / "b.trec").read_bytes()
    assert (tmp_path / "a.trec").read_bytes() != (tmp_path / "c.trec").read_bytes()
    with open_recording(tmp_path / "c.trec") as reader:
        assert reader.header.metadata["seed"] == 99
        assert reader.header.metadata["users"] == 12_000
        assert reader.header.metadata["scenario"] == "blowup-12k"


def test_the_committed_smoke_recording_is_what_the_generator_makes(tmp_path: Path) -> None:
    # the sample recording the README, CI gate and tests use must not drift from its scenario
    committed = Path(__file__).resolve().parents[2] / "recordings" / "smoke.trec"
    generate_recording(load_scenario("smoke"), tmp_path / "smoke.trec")
    assert (tmp_path / "smoke.trec").read_bytes() == committed.read_bytes()


def peak_while_generating(path: Path, count: int) -> int:
    scenario = load_scenario("soak-50k")
    tracemalloc.start()
    try:
        generate_recording(scenario, path, count=count)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_generating_soak_streams_in_constant_memory(tmp_path: Path) -> None:
    # given the soak scenario (90 million messages on its schedule)
    # when 1,000 and then 8,000 of them are generated
    small = peak_while_generating(tmp_path / "small.trec", 1_000)
    large = peak_while_generating(tmp_path / "large.trec", 8_000)

    # then the peak does not grow with the count (8x the messages, ~4 MB more written)
    assert (tmp_path / "large.trec").stat().st_size > 4_000_000
    assert large < small * 1.25
