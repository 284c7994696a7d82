"""The README, docs/ and examples/README.md walked as a newcomer walks them: every fenced shell block run, in
order, from a fresh working directory (the repository's files, its own var/) beside a gateway that `hisgw demo
load` + `hisgw serve` started there on free ports; the documented ports (8080, 8081, 2575) are rewritten to them.

A shell block passes when it exits 0 (curl fails on an HTTP error) and no national answer in its output says
`"infcode":-1`. JSON, TOML and YAML blocks must parse, Python blocks must compile. A block that is not meant to
run carries a marker on the line above it, with the reason:

    <!-- walk: skip (why) -->          not run (other machines, a county's own files, runs until stopped)
    <!-- walk: expect-error -->        run; an infcode -1 answer is what it shows
    <!-- snippet: NAME -->             run by a test of its own (tests/test_signature_docs.py)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.demo_gateway import ROOT, DemoGateway, demo_gateway
from tests.docblocks import Block, blocks

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "examples" / "README.md"]
SHELL = {"sh", "shell", "bash", "console"}
BLOCKS = [block for path in DOCUMENTS for block in blocks(path)]
PRELUDE = 'set -e\ncurl() { command curl -sS --fail-with-body "$@"; }\n'


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoGateway, Path]]:
    """A working directory like a fresh clone's after `make setup` (the repository's files, linked), with the
    gateway's state in its own var/."""
    folder = tmp_path_factory.mktemp("newcomer")
    for entry in ROOT.iterdir():
        if entry.name == ".venv" or (entry.name != "var" and not entry.name.startswith(".")):
            (folder / entry.name).symlink_to(entry)
    with demo_gateway(folder) as gateway:
        yield gateway, folder


def localised(text: str, gateway: DemoGateway) -> str:
    text = re.sub(r"(?<=[:\s])8080\b", str(gateway.http_port), text)
    text = re.sub(r"(?<=[:\s])8081\b", str(gateway.dll_port), text)
    return re.sub(r"(?<=[:\s])2575\b", str(gateway.hl7_port), text)


def dll_config(gateway: DemoGateway, folder: Path) -> Path:
    config = folder / "walk-dll.ini"
    text = (ROOT / "examples" / "dll" / "neusoft-dll.ini").read_text(encoding="ascii")
    config.write_text(text.replace("port = 8081", f"port = {gateway.dll_port}"), encoding="ascii")
    return config


def test_every_document_has_blocks_to_walk() -> None:
    walked = [block for block in BLOCKS if block.language in SHELL and not block.markers]
    assert len(walked) >= 5, [block.where for block in walked]
    for block in BLOCKS:
        walk = block.markers.get("walk", "")
        assert walk in ("", "expect-error") or re.fullmatch(r"skip \(.+\)", walk), \
            f"{block.where}: <!-- walk: {walk} --> (say skip (why) or expect-error)"


@pytest.mark.parametrize("block", BLOCKS, ids=[block.where for block in BLOCKS])
def test_block(block: Block, newcomer: tuple[DemoGateway, Path]) -> None:
    gateway, folder = newcomer
    if block.markers.get("walk", "").startswith("skip") or "snippet" in block.markers:
        pytest.skip(block.markers.get("walk") or "run by its own test")
    if block.language == "json":
        json.loads(block.text)
    elif block.language == "toml":
        tomllib.loads(block.text)
    elif block.language in ("yaml", "yml"):
        yaml.safe_load(block.text)
    elif block.language == "python":
        compile(block.text, block.where, "exec")
    elif block.language in SHELL:
        env = {**os.environ, "HISGW_URL": gateway.url, "HISGW_HL7_PORT": str(gateway.hl7_port),
               "HISGW_DLL_CONFIG": str(dll_config(gateway, folder))}
        done = subprocess.run(["bash", "-c", PRELUDE + localised(block.text, gateway)], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=120)
        shown = f"{block.where} exited {done.returncode}:\n{block.text}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        assert done.returncode == 0, shown
        if block.markers.get("walk") != "expect-error":
            assert not re.search(r'"infcode":\s*-1', done.stdout), shown
