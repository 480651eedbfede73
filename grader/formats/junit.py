"""JUnit XML, for CI test reports (GitLab, Jenkins, Azure, test-reporter actions).

``<testsuites>`` holds one ``<testsuite>`` per task (its score, status, the seed
and the grader's version as properties) and one ``<testcase>`` per check
(``classname`` the task id, ``name`` the check's title, ``time`` its seconds). A
check that lost points carries ``<failure>`` (wrong, forbidden, not implemented,
missing) or ``<error>`` (raised, timed out, crashed, the grader failed) with the
feedback as message and text, nothing more. Built with ElementTree, so every
character is escaped; characters XML 1.0 cannot hold are shown as escapes.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from ._common import ERROR, PASSED, kind, lost_text, points, xml_safe

DEFAULT_FILENAME = "junit.xml"


def _seconds(x: float) -> str:
    return f"{float(x):.3f}"


def _testcase(task: dict[str, Any], check: dict[str, Any]) -> tuple[ET.Element, str]:
    case = ET.Element("testcase", {
        "classname": xml_safe(task["id"]),
        "name": xml_safe(check.get("title") or check["id"]),
        "time": _seconds(check.get("seconds", 0.0)),
    })
    feedback = xml_safe(check.get("feedback", ""))
    outcome = check["outcome"]
    if outcome == "skipped":
        ET.SubElement(case, "skipped", {"message": feedback})
        return case, "skipped"
    verdict = kind(check)
    if verdict == PASSED:
        return case, "passed"
    tag = "error" if verdict == ERROR else "failure"
    element = ET.SubElement(case, tag, {"message": feedback, "type": outcome})
    element.text = feedback
    return case, tag


def render(report: dict[str, Any]) -> str:
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    root = ET.Element("testsuites", {"name": "autograd-lab"})
    timestamp = str(report.get("created", ""))[:19]
    for task in report.get("tasks", []):
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        cases = []
        for check in task.get("checks", []):
            case, verdict = _testcase(task, check)
            cases.append(case)
            counts["tests"] += 1
            if verdict == "failure":
                counts["failures"] += 1
            elif verdict == "error":
                counts["errors"] += 1
            elif verdict == "skipped":
                counts["skipped"] += 1
        attrs = {"name": xml_safe(task["id"]), **{k: str(v) for k, v in counts.items()},
                 "time": _seconds(sum(float(c.get("seconds", 0.0)) for c in task.get("checks", [])))}
        if timestamp:
            attrs["timestamp"] = timestamp
        suite = ET.SubElement(root, "testsuite", attrs)
        properties = ET.SubElement(suite, "properties")
        for name, value in (("score", points(task["score"])), ("max_score", points(task["max_score"])),
                            ("status", task["status"]), ("seed", str(report["seed"])),
                            ("grader_version", report["grader_version"])):
            ET.SubElement(properties, "property", {"name": name, "value": xml_safe(value)})
        suite.extend(cases)
        lost = lost_text(report, task)
        if lost:  # the lost points by reason, adding up to what the task lost
            ET.SubElement(suite, "system-out").text = xml_safe("\n".join(lost))
        for key in totals:
            totals[key] += counts[key]
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", _seconds(report.get("duration_seconds", 0.0)))
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
