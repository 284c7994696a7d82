"""A gateway for the county tests: a real SQLite file, a real socket, operators in a real credentials file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from gateway.app import build_app, build_gateway
from gateway.auth.credentials import load_credentials
from gateway.auth.signature import Authenticator
from gateway.runtime import Gateway
from gateway.settings import Settings
from simulators.nhsa_client import NhsaClient
from tests.conftest import DIALECTS
from tests.support import CATALOGUE, HOSPITALS, person_rows

# name -> role; token = name padded to the credentials file's minimum length
OPERATORS = {"jingban1": "operator", "jingban2": "operator", "shenhe1": "reviewer", "shenhe2": "reviewer",
             "fuhe1": "second_reviewer", "caiwu1": "finance", "guanli1": "admin", "duzhe1": "reader"}


def token(name: str) -> str:
    return f"{name}-token-0123456789"


def iso7064_check(body17: str) -> str:
    """GB 11643 check character, ISO 7064 MOD 11-2 written out: sum of digit × 2^(17-i) mod 11, mapped to 1-0-X-…"""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body17))
    return "10X98765432"[total % 11]


def valid_certno(area: str, birth: str, seq: int) -> str:
    """A resident ID number with a correct check character, made up for tests. Only numbers whose check
    character the gateway accepts whether or not gateway/refdata/idcard.py has the full-number fix are
    returned (the fix is another branch's), so the caller skips sequences that give None."""
    from stdnum.cn import ric

    body = f"{area}{birth}{seq:03d}"
    right = iso7064_check(body)
    if str(ric.calc_check_digit(body)) != right:  # the unfixed check (17 characters passed) disagrees
        return ""
    return body + right


@dataclass
class County:
    url: str
    session: aiohttp.ClientSession
    gateway: Gateway
    signed: bool

    def his_client(self, fixmedins_code: str = "T2") -> NhsaClient:
        return NhsaClient(self.session, self.url, fixmedins_code)

    def headers(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(name)}"} if self.signed else {"X-Operator": name}

    async def call(self, method: str, path: str, name: str, *, headers: dict[str, str] | None = None,
                   **kwargs: Any) -> tuple[int, Any]:
        sent = {**self.headers(name), **(headers or {})}
        async with self.session.request(method, f"{self.url}{path}", headers=sent, **kwargs) as reply:
            text = await reply.text()
            kind = reply.headers.get("Content-Type", "")
            return reply.status, (await reply.json()) if kind.startswith("application/json") else text


def hospital_secret(code: str) -> str:
    return f"{code}-secret-0123456789"


def write_credentials(path: Path, hospitals: tuple[str, ...] = ()) -> Path:
    """The county operators, and the hospitals named (paasid = the code in lower case, signing with sm3)."""
    lines = []
    for code in hospitals:
        lines += [f"[hospitals.{code}]", f'paasid = "{code.lower()}"', f'secret = "{hospital_secret(code)}"',
                  'scheme = "sm3"', ""]
    for name, role in OPERATORS.items():
        lines += [f"[county.{name}]", f'token = "{token(name)}"', f'role = "{role}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@asynccontextmanager
async def county_gateway(tmp_path: Path, *, signed: bool, persons: list[dict[str, Any]] | None = None,
                         policy_files: tuple[Path, ...] = (), hospitals: tuple[str, ...] = (),
                         now: Callable[[], datetime] = datetime.now) -> AsyncIterator[County]:
    """`now`: the gateway's clock (a test moving through months sets it; the default is the wall clock)."""
    settings = Settings(db_path=tmp_path / "hisgw.sqlite", policy_files=policy_files)
    gateway = build_gateway(settings, now)
    authenticator = Authenticator(load_credentials(write_credentials(tmp_path / "credentials.toml", hospitals))) \
        if signed else None
    server = TestServer(build_app(gateway, lambda: DIALECTS, authenticator), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            county = County(str(server.make_url("")).rstrip("/"), session, gateway, signed)
            for kind, rows in (("hospitals", HOSPITALS), ("catalogue", CATALOGUE),
                               ("persons", person_rows() if persons is None else persons)):
                for start in range(0, len(rows), 2000):
                    status, body = await county.call("POST", f"/county/v1/{kind}", "guanli1",
                                                     json={"data": rows[start:start + 2000]})
                    assert status == 200, body
            yield county
    finally:
        await server.close()
        gateway.close()
