"""`treasure import`: turn captured YAML streams, JSON Lines or GoReplay files into a
recording."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import click

from treasure.cli._options import existing_file, json_option, output_option
from treasure.errors import TreasureError
from treasure.importers import (
    DEFAULT_USER_PATTERN,
    ImportOptions,
    TimestampUnit,
    import_sources,
)
from treasure.routing import RoutingSpec


@click.command(name="import")
@click.argument("sources", nargs=-1, required=True, type=existing_file())
@output_option("Recording file to write (overwritten).", required=True)
@click.option(
    "--format",
    "source_format",
    type=click.Choice(["auto", "yaml", "jsonl", "gor", "pcap"]),
    default="auto",
    show_default=True,
    help="Source format; auto: .jsonl/.ndjson/.json are JSON Lines, .gor GoReplay "
    "captures (requests only, payload = HTTP body), .pcap/.pcapng TCP captures, the rest "
    "YAML streams.",
)
@click.option(
    "--payload-field",
    default="payload",
    show_default=True,
    help="JSON Lines: field holding the YAML text.",
)
@click.option(
    "--timestamp-field",
    default="ts",
    show_default=True,
    help="JSON Lines: optional timestamp field.",
)
@click.option(
    "--user-field",
    default="user",
    show_default=True,
    help="JSON Lines: optional user/session id field.",
)
@click.option(
    "--timestamp-unit",
    type=click.Choice(get_args(TimestampUnit)),
    default="s",
    show_default=True,
    help="Unit of numeric timestamps (ISO 8601 text is also accepted).",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    default=1000.0,
    show_default=True,
    help="Messages per second assumed for messages without a timestamp.",
)
@click.option(
    "--user-pattern",
    default=DEFAULT_USER_PATTERN,
    help="Regex (one group) finding the user id in a payload without a user field. "
    "Default: the player_id line.",
)
@click.option(
    "--user-path",
    default="",
    metavar="PATH",
    help="The user id at this field path (`actor.id`, as in --route) instead of the pattern.",
)
@click.option(
    "--route",
    "route",
    default="",
    metavar="PATH[,PATH...]",
    help="The routing spec of these messages, recorded in the recording's header.",
)
@click.option(
    "--capture-framing",
    type=click.Choice(["length", "lines"]),
    default="length",
    show_default=True,
    help="pcap: frames of the TCP stream: 4-byte big-endian length prefixes, or lines.",
)
@click.option(
    "--direction",
    type=click.Choice(["client", "server"]),
    default="client",
    show_default=True,
    help="pcap: the side whose bytes are the messages (client: the one that connected).",
)
@click.option("--compress", is_flag=True, help="Compress the frame stream with zstd.")
@json_option
def command(
    sources: tuple[Path, ...],
    output: Path,
    source_format: str,
    payload_field: str,
    timestamp_field: str,
    user_field: str,
    timestamp_unit: str,
    rate: float,
    user_pattern: str,
    user_path: str,
    route: str,
    capture_framing: str,
    direction: str,
    compress: bool,
    as_json: bool,
) -> None:
    """Import captured messages from SOURCES into a recording.

    YAML streams are split at `---` / `...` document markers without parsing, so
    malformed or hostile payloads are kept byte for byte (replay classifies them).
    JSON Lines hold one message per line: the YAML text in a payload field, with an
    optional timestamp and user id.

    \b
    Examples:
      treasure import capture.yaml -o runs/capture.trec
      treasure import day1.jsonl day2.jsonl -o runs/days.trec --timestamp-unit ms
      treasure import router.log.jsonl -o runs/r.trec --payload-field body --user-field sid
      treasure import requests.gor -o runs/g.trec --route kind,actor.id,sid --user-path actor.id
      treasure import lo.pcap -o runs/p.trec --capture-framing lines --user-path player_id
    """
    if route:
        try:
            route = str(RoutingSpec.parse(route))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'--route'") from None
    options = ImportOptions(
        format=source_format,  # type: ignore[arg-type]  # click.Choice checked it
        payload_field=payload_field,
        timestamp_field=timestamp_field,
        user_field=user_field,
        timestamp_unit=timestamp_unit,  # type: ignore[arg-type]
        rate_per_s=rate,
        user_pattern=user_pattern,
        user_path=user_path,
        routing=route,
        capture_framing=capture_framing,  # type: ignore[arg-type]  # click.Choice checked it
        capture_direction=direction,  # type: ignore[arg-type]
    )
    summary = import_sources(list(sources), output, options=options, compress=compress)
    if summary.frames == 0:
        output.unlink(missing_ok=True)  # a recording of nothing would replay as a silent pass
        names = ", ".join(str(source) for source in sources)
        raise TreasureError(
            f"{names}: no message found, nothing written: a YAML stream needs documents, "
            "JSON Lines a payload field per line (--payload-field)"
        )
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2))
        return
    click.echo(
        f"imported {summary.frames:,} messages ({summary.payload_bytes:,} B) from "
        f"{summary.users:,} users in {len(summary.sources)} file(s) to {summary.path}"
    )
