"""`treasure gate`: check saved results against budgets and a baseline; exit 4 when broken."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import click
from rich import box
from rich.markup import escape
from rich.table import Table

from treasure import files
from treasure.budgets import Budgets, find_budget_file, load_budgets
from treasure.cli._options import console, existing_file, json_option
from treasure.errors import BudgetError, ExitCode
from treasure.gate import GateReport, Status, run_gate
from treasure.gate.render import junit_xml, markdown
from treasure.growth.sweep import load_any
from treasure.quantities import Unit, format_quantity, parse_quantity
from treasure.results import load

METRICS_HELP = (
    "\b\nMetrics (budgets are upper limits; STAT is p50, p90, p99, max or mean):\n"
    "  heap_allocated_STAT heap_peak_STAT heap_retained_STAT   bytes per message\n"
    "  amplification_STAT                                     peak heap / payload\n"
    "  peak_heap_at_users                                     bytes\n"
    "  latency_STAT latency_corrected_STAT (and _p999)        time\n"
    "  gc_per_1k gc_pause_p99 gc_pause_max                    count, time\n"
    "  error_rate rss_growth_per_message rss_peak             %, bytes\n"
    '  growth_per_message (a soak)                            bytes, or "flat"\n'
    "\b\nOf a sweep (treasure sweep), each judged on the whole sweep:\n"
    "  knee_users_min knee_rate_min (lower limits)            users, msg/s\n"
    "  step_heap_per_user step_rss_per_user                   bytes per user"
)
_STYLE = {Status.PASS: "green", Status.FAIL: "bold red", Status.ERROR: "bold yellow"}


def _percent(value: str | None, option: str) -> float | None:
    if value is None:
        return None
    try:
        return parse_quantity(value, Unit.FRACTION)
    except ValueError as exc:
        raise BudgetError(f"{option} {value!r}: {exc}") from None


@click.command("gate", epilog=METRICS_HELP)
@click.argument("results", nargs=-1, required=True, type=existing_file())
@click.option(
    "--budgets",
    "budgets_file",
    type=existing_file(),
    help="Budget file (default: ./treasure.toml, else [tool.treasure] of ./pyproject.toml).",
)
@click.option("--baseline", type=existing_file(), help="Also check for regressions against it.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write JUnit XML.")
@click.option(
    "--markdown",
    "markdown_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a Markdown summary (also appended to $GITHUB_STEP_SUMMARY when set).",
)
@click.option("--heap-tolerance", help="Allowed heap growth vs the baseline, e.g. 2%.")
@click.option("--latency-threshold", help="Noise threshold for latency vs the baseline, e.g. 10%.")
@click.option("--seed", type=int, help="Seed of the bootstrap (default 0: reproducible).")
@json_option
def command(
    results: tuple[Path, ...],
    budgets_file: Path | None,
    baseline: Path | None,
    junit: Path | None,
    markdown_file: Path | None,
    heap_tolerance: str | None,
    latency_threshold: str | None,
    seed: int | None,
    as_json: bool,
) -> None:
    """Check saved results (from replay, compare, soak or sweep) against budgets and, with
    --baseline, against a stored result. Exit 0 when every check holds, 4 when any budget
    breaks or a figure a budget needs was not measured (a sweep's knee it did not find).

    \b
    Example:
      treasure compare recordings/smoke.trec -o cmp.json
      treasure gate cmp.json --budgets treasure.toml --junit report.xml
      treasure gate run.json --baseline baselines/smoke.json
      treasure gate runs/sweep.json --budgets treasure.toml
    """
    budgets = _budgets(budgets_file, baseline is not None)
    settings = budgets.regression
    tolerance = _percent(heap_tolerance, "--heap-tolerance")
    threshold = _percent(latency_threshold, "--latency-threshold")
    settings = replace(
        settings,
        heap_tolerance=settings.heap_tolerance if tolerance is None else tolerance,
        latency_threshold=settings.latency_threshold if threshold is None else threshold,
        seed=settings.seed if seed is None else seed,
    )
    budgets = replace(budgets, regression=settings)
    loaded = [(str(path), load_any(path)) for path in results]
    report = run_gate(loaded, budgets, (str(baseline), load(baseline)) if baseline else None)
    _write_outputs(report, junit, markdown_file)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        _print_table(report)
    if not report.passed:
        raise SystemExit(int(ExitCode.BUDGET_BROKEN))


def _budgets(path: Path | None, has_baseline: bool) -> Budgets:
    found = path or find_budget_file(Path())
    if found is not None:
        budgets = load_budgets(found)
    elif has_baseline:
        budgets = Budgets()
    else:
        raise BudgetError(
            "no budgets: pass --budgets FILE, add ./treasure.toml or [tool.treasure] to "
            "./pyproject.toml, or give --baseline"
        )
    if budgets.empty and not has_baseline:
        raise BudgetError(
            f"{budgets.source}: no budgets under [budgets] (none written, or every "
            "one switched off with false): nothing to check"
        )
    return budgets


def _write_outputs(report: GateReport, junit: Path | None, markdown_file: Path | None) -> None:
    if junit is not None:
        files.write_text(junit, junit_xml(report))
    summary = markdown(report)
    if markdown_file is not None:
        files.write_text(markdown_file, summary)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        files.append_text(step_summary, summary + "\n")


def _print_table(report: GateReport) -> None:
    """Figures never wrap; a check's note goes on a line of its own under the check's name,
    and one scenario shared by every check goes into the title instead of a column."""
    scenarios = sorted({check.scenario for check in report.checks})
    shared = f" on {scenarios[0]}" if len(scenarios) == 1 else ""
    table = Table(
        title=f"treasure gate{shared}: {report.summary()}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("")
    table.add_column("backend", no_wrap=True)
    if not shared:
        table.add_column("scenario", no_wrap=True)
    table.add_column("check", overflow="fold", min_width=21)
    table.add_column("measured", justify="right", no_wrap=True)
    table.add_column("allowed", justify="right", no_wrap=True)
    ordered = sorted(report.checks, key=lambda check: check.status is Status.PASS)
    blank = [""] * (1 if shared else 2)
    for check in ordered:
        table.add_row(
            f"[{_STYLE[check.status]}]{check.status.value.upper()}[/]",
            check.backend,
            *([] if shared else [check.scenario]),
            check.label,
            "" if check.measured is None else format_quantity(check.measured, check.unit),
            "" if check.allowed is None else format_quantity(check.allowed, check.unit),
        )
        if check.note:
            table.add_row("", *blank, f"[dim]{escape(check.note)}[/]", "", "")
    console().print(table)
    # plain lines, never wrapped, so a CI log can be searched for them
    for check in report.broken:
        click.echo(f"BROKEN {check.backend} on {check.scenario}: {check.title}: {check.verdict}")
