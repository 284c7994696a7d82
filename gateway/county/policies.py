"""Policy maintenance (政策维护): check a text naming each mistake's line, compare two versions field by field,
and the book of versions in force (the shipped files plus every published version). Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from gateway.county.records import PolicyVersion
from gateway.engine.policy import Policy, PolicyBook, PolicyFileError, load_policy_text, policy_mistakes

MAX_POLICY_TEXT = 1024 * 1024
_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.]+)\s*\]\]?")
_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")
_TOML_LINE = re.compile(r"at line (\d+)")
_STEP = re.compile(r"\.?([A-Za-z0-9_-]+)((?:\[\d+\])*)")


@dataclass(frozen=True, slots=True)
class Mistake:
    line: int | None
    where: str
    problem: str

    def document(self) -> dict[str, Any]:
        return {"line": self.line, "where": self.where, "problem": self.problem}

    def __str__(self) -> str:
        return f"line {self.line if self.line else '?'}: {self.where}: {self.problem}"


def check(text: str, name: str) -> list[Mistake]:
    """Every mistake of a policy text, each with the line it is on (None when the whole file is meant)."""
    lines = _key_lines(text)
    return [Mistake(_line_of(error, lines), error.where, error.problem)
            for error in policy_mistakes(text, Path(name))]


def parse(version: PolicyVersion, effective_from: date | None = None) -> Policy:
    """A stored version as the engine uses it; a published one under the date and id it was published with."""
    policy = load_policy_text(version.source, Path(f"version {version.version}"))
    effective = effective_from or version.effective_from
    if effective is None:
        return policy
    key = policy.policy_id.rsplit("@", 1)[0]
    return replace(policy, effective_from=effective, policy_id=f"{key}@{effective.isoformat()}")


def book(shipped: PolicyBook, versions: list[PolicyVersion]) -> PolicyBook:
    """What settles: the configured files and every published version, by effective date."""
    published = [parse(v) for v in versions if v.status == "published"]
    return PolicyBook(tuple(sorted((*shipped.versions, *published), key=lambda p: p.effective_from)))


def publication_conflict(current: PolicyBook, policy: Policy) -> str | None:
    for other in current.versions:
        if other.effective_from == policy.effective_from:
            return f"{policy.effective_from} 已有生效的政策版本 {other.policy_id}；请选择其他生效日"
        if other.policy_id == policy.policy_id:
            return f"政策版本 {policy.policy_id} 已存在"
    return None


def flatten(policy: Policy) -> dict[str, str]:
    """Every figure of a policy under a stable name: funds by code, so an inserted fund shifts nothing."""
    out: dict[str, str] = {"policy.county": policy.county, "policy.effective_from": policy.effective_from.isoformat(),
                           "referral.out_of_county_selfpay_ratio": str(policy.referral_selfpay_ratio),
                           "funds.order": " → ".join(f.code for f in policy.funds)}
    for fund in policy.funds:
        at = f"funds[{fund.code}]"
        out.update({f"{at}.name": fund.name, f"{at}.stage": fund.stage, f"{at}.kind": fund.kind,
                    f"{at}.setlinfo_field": fund.setlinfo_field, f"{at}.counts_as_fund": str(fund.counts_as_fund)})
        for n, rule in enumerate(fund.rules):
            r = f"{at}.rules[{n}]"
            when = rule.when
            out[f"{r}.label"] = rule.label
            out[f"{r}.when.insutype"] = ",".join(sorted(when.insutypes))
            out[f"{r}.when.attributes_any"] = ",".join(sorted(when.attributes_any))
            out[f"{r}.when.in_county"] = "" if when.in_county is None else str(when.in_county).lower()
            out[f"{r}.annual_cap"] = "" if rule.annual_cap is None else str(rule.annual_cap)
            if fund.kind == "stay_deductible":
                for level in sorted(rule.deductible):
                    out[f"{r}.deductible.{level}"] = str(rule.deductible[level])
                    out[f"{r}.ratio.{level}"] = str(rule.ratio_by_level[level])
            elif fund.kind == "annual_segments":
                out[f"{r}.deductible"] = str(rule.annual_deductible)
                for s, (upto, ratio) in enumerate(rule.segments):
                    out[f"{r}.segments[{s}].upto"] = "" if upto is None else str(upto)
                    out[f"{r}.segments[{s}].ratio"] = str(ratio)
            elif fund.kind == "share_of_remaining":
                out[f"{r}.ratio"] = str(rule.ratio)
            else:
                out[f"{r}.share_of_total"] = str(rule.share_of_total)
    return out


def compare(a: Policy, b: Policy) -> list[dict[str, str | None]]:
    """Field by field: each name whose value differs, with both values (None: absent on that side)."""
    left, right = flatten(a), flatten(b)
    changes: list[dict[str, str | None]] = []
    for name in [*left, *(k for k in right if k not in left)]:
        before, after = left.get(name), right.get(name)
        if before != after:
            changes.append({"field": name, "a": before, "b": after})
    return changes


def _key_lines(text: str) -> dict[str, int]:
    """Key path ('funds[3].rules[1].ratio') -> the line it is written on."""
    found: dict[str, int] = {}
    table = ""
    counters: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            name = header.group(2)
            if header.group(1) == "[[":
                parent, _, leaf = name.rpartition(".")
                base = _indexed(parent, counters) if parent else ""
                array = f"{base}.{leaf}" if base else leaf
                counters[array] = counters.get(array, -1) + 1
                table = f"{array}[{counters[array]}]"
            else:
                table = name
            found.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            found.setdefault(f"{table}.{key.group(1)}" if table else key.group(1), number)
    return found


def _indexed(dotted: str, counters: dict[str, int]) -> str:
    """'funds' -> 'funds[<current index>]' for the parent of a nested array of tables."""
    out = ""
    for part in dotted.split("."):
        out = f"{out}.{part}" if out else part
        if out in counters:
            out = f"{out}[{counters[out]}]"
    return out


def _line_of(error: PolicyFileError, lines: dict[str, int]) -> int | None:
    if error.where == "TOML":
        match = _TOML_LINE.search(error.problem)
        return int(match.group(1)) if match else None
    where = error.where
    while where:
        if where in lines:
            return lines[where]
        cut = max(where.rfind("."), where.rfind("["))
        where = where[:cut] if cut > 0 else ""
    return None


def effective_date(value: object) -> date:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("生效日应为 YYYY-MM-DD")
    return date.fromisoformat(value)
