"""A self-contained HTML report: one file, no scripts or links out. For every step: the raw request and answer
in the vendor's dialect (as its encoding reads them), expected beside actual figures, and the time it took."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from pathlib import Path

from simulators.checks import Check
from simulators.runner import BLOCKED, ERROR, FAIL, NOT_APPLICABLE, PASS, SKIP, ScenarioResult, StepResult

STYLE = """
body{font-family:-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #ddd;padding:2px 8px;font-size:.9em}
th{background:#f4f4f4;text-align:left}td.num{text-align:right;font-family:monospace}
.pass{color:#1a7f37}.fail,.error,.blocked{color:#cf222e;font-weight:bold}.skip,.na{color:#888}
tr.bad td{background:#ffebe9}tr.nc td{color:#999}
details{margin:.3em 0 .3em 1em}summary{cursor:pointer}
details.scenario>summary{font-weight:bold}
.raw{display:grid;grid-template-columns:1fr 1fr;gap:8px}
pre{background:#f6f8fa;border:1px solid #ddd;padding:6px;white-space:pre-wrap;word-break:break-all;font-size:.8em;
margin:.2em 0;max-height:28em;overflow:auto}
.meta{color:#666;font-size:.85em}.problems{color:#cf222e}
"""
CLASS = {PASS: "pass", FAIL: "fail", SKIP: "skip", BLOCKED: "blocked", NOT_APPLICABLE: "na", ERROR: "error"}
LABEL = {PASS: "✓ pass", FAIL: "✗ FAIL", SKIP: "skipped", BLOCKED: "not played", NOT_APPLICABLE: "n/a",
         ERROR: "! error"}


def _status(status: str) -> str:
    return f'<span class="{CLASS[status]}">{LABEL[status]}</span>'


def _anchor(result: ScenarioResult) -> str:
    return f"{result.dialect}--{result.scenario.name}"


def _checks(checks: Sequence[Check]) -> str:
    if not checks:
        return ""
    rows = []
    for check in checks:
        css = "bad" if not check.ok else "nc" if not check.carried else ""
        mark = "✓" if check.ok and check.carried else "—" if not check.carried else "✗"
        rows.append(f'<tr class="{css}"><td>{escape(check.name)}</td><td class="num">{escape(check.expected)}</td>'
                    f'<td class="num">{escape(check.actual)}</td><td>{mark}</td></tr>')
    return ("<table><tr><th>figure</th><th>expected</th><th>actual</th><th></th></tr>" + "".join(rows)
            + "</table>")


def _formatted(text: str) -> str:
    try:
        document = json.loads(text)
    except ValueError:
        return ""
    pretty = json.dumps(document, ensure_ascii=False, indent=2)
    return f"<details><summary>formatted</summary><pre>{_text(pretty)}</pre></details>"


def _wire(title: str, raw: bytes) -> str:
    """The bytes that went over the wire around the dialect's message (a SOAP envelope), when there are such."""
    if not raw:
        return ""
    text = raw.decode("utf-8", "backslashreplace")
    return f"<details><summary>{escape(title)}</summary><pre>{_text(text)}</pre></details>"


def _text(text: str) -> str:
    """Element content: only & < > need escaping, so quotes in JSON stay as they were sent."""
    return escape(text, quote=False)


def _step(result: StepResult, encoding: str) -> str:
    step = result.step
    exchange = result.exchange
    took = f"{exchange.seconds * 1000:.1f} ms" if exchange else ""
    head = (f"<summary>{_status(result.status)} step {step.number} · {escape(step.title)} "
            f'<span class="meta">{took}{" · " + escape(result.reason) if result.reason else ""}</span></summary>')
    body = []
    if result.problems:
        body.append('<ul class="problems">' + "".join(f"<li>{escape(p)}</li>" for p in result.problems) + "</ul>")
    if exchange is not None:
        delivery = exchange.delivery
        sent = len(delivery.wire_sent or exchange.request)
        received = len(delivery.wire_received or delivery.body)
        meta = (f"{sent} bytes → {received} bytes · {encoding} · {delivery.meta} · status {exchange.decoded.status}")
        body.append(f'<div class="meta">{escape(meta)}</div><div class="raw">'
                    f"<div><b>request</b><pre>{_text(exchange.request_text)}</pre>{_formatted(exchange.request_text)}"
                    f"{_wire('SOAP envelope as sent', delivery.wire_sent)}"
                    f"</div><div><b>answer</b><pre>{_text(exchange.answer_text or delivery.failure)}</pre>"
                    f"{_formatted(exchange.answer_text)}{_wire('SOAP envelope as received', delivery.wire_received)}"
                    "</div></div>")
    body.append(_checks(result.checks))
    opened = " open" if result.status in (FAIL, BLOCKED) else ""
    return f"<details{opened}>{head}{''.join(body)}</details>"


def _scenario(result: ScenarioResult, encodings: Mapping[str, str]) -> str:
    persons = ", ".join(f"{key}: {p.psn_no} ({'/'.join(p.spec.attributes) or 'no attribute'}, {p.spec.insutype})"
                        for key, p in result.persons.items())
    head = (f'<summary id="{escape(_anchor(result))}">{_status(result.status)} {escape(result.scenario.name)} — '
            f'{escape(result.scenario.title)} <span class="meta">{len(result.steps)} steps · '
            f"{result.seconds * 1000:.0f} ms</span></summary>")
    covers = ", ".join(result.scenario.covers)
    info = (f'<div class="meta">{escape(str(result.scenario.path))} · covers {escape(covers)}'
            f"{' · persons ' + escape(persons) if persons else ''}</div>")
    if result.reason:
        info += f'<div class="problems">{escape(result.reason)}</div>'
    steps = "".join(_step(step, encodings.get(result.dialect, "")) for step in result.steps)
    opened = " open" if result.status in (FAIL, ERROR) else ""
    return f'<details class="scenario"{opened}>{head}{info}{steps}</details>'


def html_report(results: Sequence[ScenarioResult], *, target: str, encodings: Mapping[str, str],
                started: datetime | None = None) -> str:
    dialects = list(dict.fromkeys(r.dialect for r in results))
    names = list(dict.fromkeys(r.scenario.name for r in results))
    by_key = {(r.scenario.name, r.dialect): r for r in results}
    played = [r for r in results if r.status != NOT_APPLICABLE]
    passed = sum(1 for r in played if r.status == PASS)
    matrix = ["<table><tr><th>scenario</th>" + "".join(f"<th>{escape(d)}</th>" for d in dialects) + "</tr>"]
    for name in names:
        cells = []
        for dialect in dialects:
            result = by_key.get((name, dialect))
            cells.append("<td></td>" if result is None else
                         f'<td><a href="#{escape(_anchor(result))}">{_status(result.status)}</a></td>')
        title = escape(by_key[(name, dialects[0])].scenario.title) if (name, dialects[0]) in by_key else ""
        matrix.append(f"<tr><td>{escape(name)}<br><span class=meta>{title}</span></td>{''.join(cells)}</tr>")
    matrix.append("</table>")
    sections = []
    for dialect in dialects:
        mine = [r for r in results if r.dialect == dialect]
        sections.append(f"<h2>{escape(dialect)} <span class=meta>({escape(encodings.get(dialect, ''))})</span></h2>"
                        + "".join(_scenario(r, encodings) for r in mine))
    when = (started or datetime.now()).strftime("%Y-%m-%d %H:%M:%S")
    verdict = "pass" if passed == len(played) else "fail"
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>hisgw simulate {when}</title>'
            f"<style>{STYLE}</style></head><body><h1>hisgw simulate — 联调报告</h1>"
            f'<p class="meta">{when} · gateway {escape(target)} · {len(dialects)} dialects · {len(names)} scenarios</p>'
            f'<p class="{verdict}">{passed}/{len(played)} scenario plays passed, '
            f"{len(results) - len(played)} not applicable</p>{''.join(matrix)}{''.join(sections)}"
            '<p class="meta">Persons are made up for each play (checked ID numbers, fresh person numbers); the raw '
            "messages carry their names and ID numbers as a HIS sends them.</p></body></html>")


def write_html(path: Path, results: Sequence[ScenarioResult], *, target: str, encodings: Mapping[str, str],
               started: datetime | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html_report(results, target=target, encodings=encodings, started=started), encoding="utf-8")
