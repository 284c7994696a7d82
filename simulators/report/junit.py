"""JUnit XML for CI: a test suite per dialect, a test case per scenario, the diffs as the failure text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from xml.etree import ElementTree as ET

from simulators.runner import ERROR, FAIL, NOT_APPLICABLE, ScenarioResult


def junit_xml(results: Sequence[ScenarioResult]) -> bytes:
    root = ET.Element("testsuites", name="hisgw simulate")
    for dialect in dict.fromkeys(r.dialect for r in results):
        mine = [r for r in results if r.dialect == dialect]
        suite = ET.SubElement(root, "testsuite", name=f"hisgw-simulate.{dialect}", tests=str(len(mine)),
                              failures=str(sum(1 for r in mine if r.status == FAIL)),
                              errors=str(sum(1 for r in mine if r.status == ERROR)),
                              skipped=str(sum(1 for r in mine if r.status == NOT_APPLICABLE)),
                              time=f"{sum(r.seconds for r in mine):.3f}")
        for result in mine:
            case = ET.SubElement(suite, "testcase", classname=f"{dialect}", name=result.scenario.name,
                                 file=str(result.scenario.path), time=f"{result.seconds:.3f}")
            if result.status == NOT_APPLICABLE:
                ET.SubElement(case, "skipped", message=result.reason)
            elif result.status in (FAIL, ERROR):
                failures = result.failures()
                element = ET.SubElement(case, "failure" if result.status == FAIL else "error",
                                        message=failures[0] if failures else result.reason)
                element.text = "\n".join(failures)
            lines = [f"{s.step.number:>3} {s.status:<7} {s.seconds * 1000:7.1f} ms  {s.step.title}"
                     for s in result.steps]
            ET.SubElement(case, "system-out").text = result.scenario.title + "\n" + "\n".join(lines)
    ET.indent(root)
    text: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return text


def write_junit(path: Path, results: Sequence[ScenarioResult]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(junit_xml(results))
