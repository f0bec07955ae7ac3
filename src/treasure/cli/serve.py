"""`treasure serve`: a registered backend behind the target protocol, as a service."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from treasure.errors import TreasureError
from treasure.routing import RoutingSpec
from treasure.targets.address import FRAMINGS, parse_host_port
from treasure.targets.server import build_server, listening_address


@click.command(name="serve")
@click.argument("backend")
@click.option(
    "--unix",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Listen on this Unix socket path.",
)
@click.option("--tcp", metavar="HOST:PORT", help="Listen on TCP (port 0: any free port).")
@click.option("--http", metavar="HOST:PORT", help="Serve HTTP POST on TCP (port 0: any free port).")
@click.option(
    "--framing",
    type=click.Choice(FRAMINGS),
    default="length",
    show_default=True,
    help="Frames on --unix/--tcp: 4-byte length prefixes, or JSON lines.",
)
@click.option(
    "--route", "route", metavar="PATH[,PATH...]", help="Routing fields (docs/routing.md)."
)
def command(
    backend: str,
    unix: Path | None,
    tcp: str | None,
    http: str | None,
    framing: str,
    route: str | None,
) -> None:
    """Serve BACKEND behind the target protocol (docs/target-protocol.md) until SIGTERM or
    Ctrl-C. Prints `listening on ADDRESS` on stdout once it accepts connections.

    \b
    Examples:
      treasure serve pyyaml-dom --unix /tmp/router.sock
      treasure serve rust-serde --tcp 127.0.0.1:7878
      treasure serve pyyaml-stream --http 127.0.0.1:8080
      treasure replay runs/blowup-12k.trec --target unix:/tmp/router.sock --pace rate:2000/s
    """
    chosen = [name for name, value in (("--unix", unix), ("--tcp", tcp), ("--http", http)) if value]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --unix PATH, --tcp HOST:PORT, --http HOST:PORT")
    try:
        routing = RoutingSpec.parse(route) if route else None
    except ValueError as exc:
        raise TreasureError(f"--route: {exc}") from None
    try:
        server = build_server(
            backend,
            unix=unix,
            tcp=parse_host_port(tcp) if tcp else None,
            http=parse_host_port(http) if http else None,
            framing="lines" if framing == "lines" else "length",
            routing=routing,
        )
    except OSError as exc:
        raise TreasureError(f"cannot listen on {chosen[0]}: {exc.strerror or exc}") from None

    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever to return: call it from another thread;
        # raising here instead could land inside a request's handling and be swallowed
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    click.echo(f"listening on {listening_address(server)}")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if unix is not None:
            with contextlib.suppress(FileNotFoundError):
                unix.unlink()
