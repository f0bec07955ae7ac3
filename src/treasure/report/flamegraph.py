"""A static SVG flamegraph drawn from sampled stacks (the CPU pass's speedscope samples).

Frames inside the backend are drawn in warm colours, the harness's and start-up's in cool
ones, so the picture shows what the backend share counts. Hover a frame for its samples.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path

from treasure.files import write_text

WIDTH = 1200
ROW = 17
TOP = 48
MIN_PIXELS = 0.3  # narrower frames are dropped: invisible, and they bloat the file

# one sampled stack, root first: (frame label, inside the backend)
Stack = Sequence[tuple[str, bool]]


class _Node:
    __slots__ = ("backend", "children", "count")

    def __init__(self, backend: bool) -> None:
        self.backend = backend
        self.count = 0
        self.children: dict[str, _Node] = {}


def _tree(stacks: Iterable[Stack]) -> _Node:
    root = _Node(backend=False)
    for stack in stacks:
        root.count += 1
        node = root
        for label, backend in stack:
            child = node.children.get(label)
            if child is None:
                child = node.children[label] = _Node(backend)
            child.count += 1
            node = child
    return root


def _depth(node: _Node) -> int:
    return 1 + max((_depth(child) for child in node.children.values()), default=0)


def _colour(label: str, backend: bool) -> str:
    shade = zlib.crc32(label.encode()) % 30
    if backend:
        return f"hsl({10 + shade}, 85%, {55 + shade // 3}%)"
    return f"hsl({195 + shade}, 45%, {68 + shade // 3}%)"


def _fitted(label: str, chars: int) -> str:
    if len(label) <= chars:
        return label
    return label[: chars - 2] + ".." if chars > 3 else ""


def _frames(
    label: str, node: _Node, x: float, level: int, scale: float, height: int, total: int
) -> Iterable[str]:
    width = node.count * scale
    if width < MIN_PIXELS:
        return
    y = height - (level + 1) * ROW
    share = node.count / total
    text = escape(label)
    shown = _fitted(label, int((width - 6) / 6.6))
    yield (
        f"<g><title>{text}: {node.count} samples ({share:.1%})</title>"
        f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{ROW - 1}" rx="2" '
        f'fill="{_colour(label, node.backend)}"/>'
        + (f'<text x="{x + 3:.1f}" y="{y + 12}">{escape(shown)}</text>' if shown else "")
        + "</g>"
    )
    for child_label in sorted(node.children):
        child = node.children[child_label]
        yield from _frames(child_label, child, x, level + 1, scale, height, total)
        x += child.count * scale


def render_flamegraph(stacks: Iterable[Stack], title: str) -> str:
    root = _tree(stacks)
    total = max(root.count, 1)
    height = TOP + (_depth(root)) * ROW + 8
    scale = (WIDTH - 20) / total
    body = "\n".join(_frames("all samples", root, 10.0, 0, scale, height, total))
    legend = (
        f"{root.count} samples; warm: inside the backend, cool: harness and start-up; "
        "hover a frame for its share"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="Verdana, sans-serif" font-size="11">\n'
        f'<rect width="100%" height="100%" fill="#fdfdfd"/>\n'
        f'<text x="10" y="20" font-size="15">{escape(title)}</text>\n'
        f'<text x="10" y="38" fill="#555">{escape(legend)}</text>\n'
        f"{body}\n</svg>\n"
    )


def write_flamegraph(stacks: Iterable[Stack], path: Path, title: str) -> None:
    write_text(path, render_flamegraph(stacks, title))
