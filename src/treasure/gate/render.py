"""Gate reports for CI systems: JUnit XML (one test case per check) and a Markdown summary."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from treasure.gate.checks import Check, GateReport, Status
from treasure.quantities import format_quantity

_ICON = {Status.PASS: "✅", Status.FAIL: "❌", Status.ERROR: "⚠️"}


def _case_name(check: Check) -> str:
    return f"{check.kind} {check.name}"


def junit_xml(report: GateReport) -> str:
    """One <testcase> per budget per backend, classname `treasure.<backend>.<scenario>`, so a
    CI's test view groups the checks of one backend together."""
    failures = sum(check.status is Status.FAIL for check in report.checks)
    errors = sum(check.status is Status.ERROR for check in report.checks)
    suites = ET.Element("testsuites", name="treasure gate")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="treasure gate",
        tests=str(len(report.checks)),
        failures=str(failures),
        errors=str(errors),
        skipped="0",
    )
    for check in report.checks:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"treasure.{check.backend}.{check.scenario}",
            name=_case_name(check),
            file=check.source,
        )
        if check.status is Status.FAIL:
            node = ET.SubElement(case, "failure", message=check.verdict, type="BudgetBroken")
            node.text = _explain(check)
        elif check.status is Status.ERROR:
            node = ET.SubElement(case, "error", message=check.verdict, type="NotMeasured")
            node.text = _explain(check)
        else:
            ET.SubElement(case, "system-out").text = _explain(check)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _explain(check: Check) -> str:
    return (
        f"{check.title} of {check.backend} on {check.scenario}: {check.verdict}\n"
        f"result: {check.source}\n"
    )


def markdown(report: GateReport) -> str:
    """A summary for $GITHUB_STEP_SUMMARY or a merge-request note: broken checks first."""
    icon = "✅" if report.passed else "❌"
    lines = [f"### {icon} treasure gate: {report.summary()}", ""]
    sources = ", ".join(f"`{source}`" for source in report.sources)
    origin = [f"results {sources}"] if sources else []
    origin += [f"budgets `{report.budgets}`"] if report.budgets else []
    origin += [f"baseline `{report.baseline}`"] if report.baseline else []
    if origin:
        lines += ["Checked " + "; ".join(origin) + ".", ""]
    if not report.checks:
        return "\n".join(lines) + "\n"
    lines += [
        "| | backend | scenario | check | measured | allowed | note |",
        "|---|---|---|---|---:|---:|---|",
    ]
    ordered = sorted(report.checks, key=lambda check: check.status is Status.PASS)
    lines += [_markdown_row(check) for check in ordered]
    return "\n".join(lines) + "\n"


def _markdown_row(check: Check) -> str:
    measured = "" if check.measured is None else format_quantity(check.measured, check.unit)
    allowed = "" if check.allowed is None else format_quantity(check.allowed, check.unit)
    cells = [_ICON[check.status], check.backend, check.scenario, f"`{check.label}`", measured,
             allowed, check.note]  # fmt: skip
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
