"""docs/signatures.md's recipes, run as written (Python snippet, OpenSSL one-liners), against a gateway with
credentials: it accepts what they sign, and refuses the same recipe with a wrong secret (HG4002)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.demo_gateway import ROOT, DemoGateway, demo_gateway
from tests.docblocks import Block, snippet

DOC = ROOT / "docs" / "signatures.md"
BODY = "examples/nhsa-http/1101-person.json"  # H43052100002's; the sm3 hospital gets a copy naming itself
TIF = ("h43052100002", "tif-secret-for-h43052100002")
SM3 = ("h43052100001", "sm3-secret-for-h43052100001")
CREDENTIALS = f"""
[hospitals.H43052100002]
paasid = "{TIF[0]}"
secret = "{TIF[1]}"

[hospitals.H43052100001]
paasid = "{SM3[0]}"
secret = "{SM3[1]}"
scheme = "sm3"
"""


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoGateway, Path]]:
    folder = tmp_path_factory.mktemp("signatures")
    credentials = folder / "credentials.toml"
    credentials.write_text(CREDENTIALS, encoding="utf-8")
    other = folder / "1101-h43052100001.json"
    other.write_bytes((ROOT / BODY).read_bytes().replace(b"H43052100002", b"H43052100001"))
    with demo_gateway(folder, "--credentials", str(credentials)) as gateway:
        yield gateway, other


def run(block: Block, gateway: DemoGateway, paasid: str, secret: str, body: Path | None = None,
        scheme: str = "tif") -> str:
    text = block.text.replace("127.0.0.1:8080", f"127.0.0.1:{gateway.http_port}")
    if body is not None:
        text = text.replace(BODY, str(body))
    command = [sys.executable, "-c", text] if block.language == "python" else ["sh", "-c", text]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=30,
                          env={**os.environ, "PAASID": paasid, "SECRET": secret, "SCHEME": scheme})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_python_snippet_signs_both_schemes(signed: tuple[DemoGateway, Path]) -> None:
    gateway, other = signed
    block = snippet(DOC, "python")
    assert '"infcode":0' in run(block, gateway, *TIF)
    assert '"infcode":0' in run(block, gateway, *SM3, body=other, scheme="sm3")
    assert "HG4002" in run(block, gateway, TIF[0], "not-the-secret-0123456789")


def test_openssl_one_liners(signed: tuple[DemoGateway, Path]) -> None:
    gateway, other = signed
    tif, sm3 = snippet(DOC, "shell-tif"), snippet(DOC, "shell-sm3")
    assert '"infcode":0' in run(tif, gateway, *TIF)
    assert '"infcode":0' in run(sm3, gateway, *SM3, body=other)
    assert "HG4002" in run(tif, gateway, TIF[0], "not-the-secret-0123456789")
    assert "HG4002" in run(sm3, gateway, SM3[0], "not-the-secret-0123456789", body=other)
    # the sm3 signature covers the body: the tif recipe for the sm3 hospital is refused
    assert "HG4002" in run(tif, gateway, *SM3, body=other)
