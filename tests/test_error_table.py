"""The README's error table is the exception tree's: every code gateway/errors.py defines, with its title."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from gateway.errortable import markdown_table, readme_table

ROOT = Path(__file__).resolve().parent.parent
FIX = "regenerate it: .venv/bin/hisgw errors --write README.md"


def codes_in_source() -> dict[str, str]:
    """code → title read from the source text itself, not through the class tree the generator walks."""
    source = (ROOT / "gateway" / "errors.py").read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for block in re.split(r"\nclass ", source):
        code = re.search(r'^\s+code = "(HG\d{4})"', block, re.M)
        title = re.search(r'^\s+title = "([^"]+)"', block, re.M)
        if code and title and code.group(1) != "HG0000":
            found.setdefault(code.group(1), title.group(1))
    return found


def test_readme_table_lists_every_code_with_its_title() -> None:
    table = readme_table((ROOT / "README.md").read_text(encoding="utf-8"))
    assert table is not None, "README.md has lost its error-table markers"
    rows = dict(re.findall(r"^\| (HG\d{4}) \| ([^|]+?) \|", table, re.M))
    expected = codes_in_source()
    assert {"HG2000", "HG3012"} <= expected.keys()
    assert rows == expected, FIX
    assert table == markdown_table(), FIX


def test_hisgw_errors_prints_the_table() -> None:
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "errors", "--markdown"], capture_output=True,
                          text=True, check=True, cwd=ROOT)
    assert done.stdout == markdown_table()
    assert "| HG3012 | 无适用的结算政策 |" in done.stdout


def test_write_replaces_only_the_table(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    from gateway.errortable import BEGIN, END

    readme.write_text(f"before\n{BEGIN}\n| HG1001 | old |\n{END}\nafter\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "errors", "--write", str(readme)], cwd=ROOT)
    assert done.returncode == 0
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("before\n") and text.endswith(f"{END}\nafter\n")
    assert readme_table(text) == markdown_table()
