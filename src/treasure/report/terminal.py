"""The report's rows as rich tables, each narrow enough for 80 columns."""

from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from treasure.growth.sweep import SweepResult
from treasure.report.rows import Report, ReportTable, build_report
from treasure.report.sweep import charts, sweep_report
from treasure.results import CompareResult, Result, RunResult

DEFAULT_WIDTH = 100


def table_of(report_table: ReportTable) -> Table:
    """Figures never wrap: when a table is too wide, only the name column (first) folds."""
    vertical = report_table.key == "details"
    table = Table(
        title=report_table.title,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_header=not vertical,
    )
    for index, column in enumerate(report_table.columns):
        table.add_column(
            column.header,
            justify="left" if column.left else "right",
            overflow="fold",
            no_wrap=index > 0 and not vertical,
        )
    for row in report_table.rows:
        table.add_row(*(escape(cell) for cell in row))
    return table


def draw(report: Report, console: Console) -> None:
    console.print(f"[bold]{escape(report.title)}[/]")
    console.print(escape(report.headline))
    for report_table in report.tables:
        console.print()
        console.print(table_of(report_table))
        for note in report_table.notes:
            console.print(f"  {escape(note)}", style="dim")
    for name, why in report.failed.items():
        console.print(f"[bold red]{escape(name)} failed[/]: {escape(why)}")
    for warning in report.warnings:
        console.print(f"[yellow]{escape(warning)}[/]")


class TerminalRenderer:
    """Tables as text at a given width (pyinstrument's shape: one `render(result)`)."""

    def __init__(self, width: int = DEFAULT_WIDTH) -> None:
        self.width = width

    def render(self, result: Result | SweepResult) -> str:
        out = io.StringIO()
        console = Console(file=out, width=self.width, color_system=None, highlight=False)
        render(result, console)
        return out.getvalue()


def render(result: Result | SweepResult, console: Console) -> None:
    if isinstance(result, SweepResult):  # its tables, then a bar chart per figure
        draw(sweep_report(result), console)
        for line in charts(result):
            console.print(escape(line))
        return
    draw(build_report(result), console)


def render_compare(result: CompareResult, console: Console) -> None:
    render(result, console)


def render_run(run: RunResult, console: Console) -> None:
    render(run, console)
    for name, path in run.artefacts.items():
        console.print(f"{escape(name)}: {escape(path)}")
