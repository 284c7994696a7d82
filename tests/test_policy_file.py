"""A county officer edits policy files: a mistake is refused with the file and the key path."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gateway.engine.policy import PolicyBook, PolicyFileError, default_policy_path, load_policy
from gateway.errors import NoPolicy

DEMO = default_policy_path().read_text(encoding="utf-8")


def write(tmp_path: Path, text: str, name: str = "policy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("change", "where"), [
    (('kind = "annual_segments"', 'kind = "annual_segmentz"'), "funds[2].kind"),
    (("ratio = { 1 = 0.95, 2 = 0.85, 3 = 0.70 }", "ratio = { 1 = 0.95, 2 = 1.85, 3 = 0.70 }"),
     "funds[0].rules[0].ratio.2"),
    (("deductible = { 1 = 100, 2 = 250, 3 = 500 }", "deductible = { 1 = 100, 2 = 250 }"),
     "funds[0].rules[0].deductible"),
    (('setlinfo_field = "maf_pay"', 'setlinfo_field = "maf"'), "funds[6].setlinfo_field"),
    (('attributes_any = ["@poor"] }', 'attributes_any = ["@pour"] }'), "funds[0].rules[0].when.attributes_any"),
    (("share_of_total = 0.10\n", "share = 0.10\n"), "funds[7].rules[0]"),
    (("effective_from = 2018-01-01", 'effective_from = "2018"'), "policy.effective_from"),
    (("{ upto = 100000, ratio = 0.75 }", "{ upto = 10000, ratio = 0.75 }"), "funds[2].rules[0].segments[1].upto"),
])
def test_mistakes_are_refused_with_the_key_path(tmp_path: Path, change: tuple[str, str], where: str) -> None:
    assert change[0] in DEMO
    path = write(tmp_path, DEMO.replace(change[0], change[1], 1))
    with pytest.raises(PolicyFileError) as caught:
        load_policy(path)
    assert caught.value.where == where
    assert str(path) in str(caught.value)


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match="line 3"):
        load_policy(write(tmp_path, "[policy]\nid = 'x'\ncounty = \n"))


def test_versions_by_effective_date(tmp_path: Path) -> None:
    newer = write(tmp_path, DEMO.replace("effective_from = 2018-01-01", "effective_from = 2027-01-01")
                  .replace("annual_cap = 150000", "annual_cap = 200000"), "2027.toml")
    book = PolicyBook.load([newer, default_policy_path()])
    assert book.for_date(date(2026, 12, 31)).policy_id == "demo-county@2018-01-01"
    assert book.for_date(date(2027, 1, 1)).policy_id == "demo-county@2027-01-01"
    with pytest.raises(NoPolicy):
        book.for_date(date(2017, 12, 31))
