"""Authentication: hospitals sign every call (x-tif-* headers, the national scheme, or HMAC-SM3 over the
body), a replayed or stale signature is refused, a hospital acts only for itself, county operators have
roles. Over real sockets against a gateway started with a credentials file."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import zeep
import zeep.transports
from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.adapters.mllp_listener import MllpListener
from gateway.app import build_app, build_gateway, tls_context
from gateway.auth.credentials import CredentialsError, HospitalCredential, load_credentials
from gateway.auth.signature import Authenticator, signed_headers
from gateway.settings import Settings
from simulators.nhsa_client import CALL_PATH, NhsaClient
from tests.conftest import DIALECTS
from tests.support import HOSPITALS, PERSONS, Journey, failed, ok, person_rows

CREDENTIALS = """
[hospitals.T2]
paasid = "paas-t2"
secret = "t2-secret-0123456789"

[hospitals.T3]
secret = "t3-secret-0123456789"
scheme = "sm3"

[county.console]
token = "county-admin-token-0001"
role = "admin"

[county.auditor]
token = "county-reader-token-001"
role = "reader"
"""
ADMIN = {"Authorization": "Bearer county-admin-token-0001"}
READER = {"Authorization": "Bearer county-reader-token-001"}


class Signed:
    def __init__(self, url: str, session: aiohttp.ClientSession, authenticator: Authenticator) -> None:
        self.url, self.session, self.authenticator = url, session, authenticator

    def credential(self, code: str) -> HospitalCredential:
        return next(c for c in self.authenticator.credentials.hospitals.values() if c.fixmedins_code == code)

    def his(self, code: str, signed_as: str | None = None) -> NhsaClient:
        return NhsaClient(self.session, self.url, code, credential=self.credential(signed_as or code))


@pytest.fixture
async def signed(tmp_path: Path) -> AsyncIterator[Signed]:
    path = tmp_path / "credentials.toml"
    path.write_text(CREDENTIALS, encoding="utf-8")
    authenticator = Authenticator(load_credentials(path))
    gateway = build_gateway(Settings(db_path=tmp_path / "hisgw.sqlite"))
    server = TestServer(build_app(gateway, lambda: DIALECTS, authenticator), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            url = str(server.make_url("")).rstrip("/")
            for kind, rows in (("hospitals", HOSPITALS), ("persons", person_rows())):
                async with session.post(f"{url}/county/v1/{kind}", json={"data": rows}, headers=ADMIN) as response:
                    assert response.status == 200, await response.text()
            yield Signed(url, session, authenticator)
    finally:
        await server.close()
        gateway.close()


def person_query() -> dict[str, object]:
    return {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": PERSONS["poor"].certno}}


async def test_signed_calls_pass_and_unsigned_ones_are_refused(signed: Signed) -> None:
    assert ok(await signed.his("T2").call("1101", person_query()))["baseinfo"]["psn_no"] == PERSONS["poor"].psn_no
    assert ok(await signed.his("T3").call("1101", person_query()))  # the SM3 scheme
    unsigned = NhsaClient(signed.session, signed.url, "T2")
    assert "x-tif-signature" in failed(await unsigned.call("1101", person_query()), "HG4002")


async def test_a_hospital_acts_only_for_itself(signed: Signed) -> None:
    stay = Journey(signed.his("T2"), PERSONS["poor"])
    ok(await stay.admit())
    # signed by T3, claiming to be T2: refused before anything runs
    impostor = signed.his("T2", signed_as="T3")
    assert "T3" in failed(await impostor.call("1101", person_query()), "HG4003")
    # T3 acting for itself on T2's stay
    answer = await signed.his("T3").call("2305", {"data": {"mdtrt_id": stay.mdtrt_id, "psn_no": stay.person.psn_no,
                                                            "setl_id": "X"}})
    failed(answer, "HG2004")  # as if it did not exist (tests/test_foreign_ids.py)


async def test_replayed_stale_and_tampered_signatures_are_refused(signed: Signed) -> None:
    his = signed.his("T2")
    body = his.envelope("1101", person_query())
    raw = json.dumps(body).encode()
    headers = signed_headers(signed.credential("T2"), raw)

    async def post(data: bytes, extra: dict[str, str]) -> dict[str, object]:
        async with signed.session.post(f"{signed.url}{CALL_PATH}", data=data,
                                       headers={"Content-Type": "application/json", **extra}) as response:
            return dict(await response.json())

    assert (await post(raw, headers))["infcode"] == 0
    assert "重放" in failed(await post(raw, headers), "HG4002")  # the same request again: a replay
    stale = signed_headers(signed.credential("T2"), raw, now=time.time() - 3600)
    assert "300" in failed(await post(raw, stale), "HG4002")
    wrong = {**signed_headers(signed.credential("T2"), raw), "x-tif-signature": "0" * 64}
    assert "不正确" in failed(await post(raw, wrong), "HG4002")
    # the SM3 scheme covers the body: the same headers on another body are refused
    sm3_headers = signed_headers(signed.credential("T3"), raw)
    other = raw.replace(b'"T2"', b'"T3"')
    assert "不正确" in failed(await post(other, sm3_headers), "HG4002")


async def test_county_roles(signed: Signed) -> None:
    url = f"{signed.url}/county/v1"
    async with signed.session.get(f"{url}/status") as response:
        assert response.status == 401
    async with signed.session.get(f"{url}/status", headers=READER) as response:
        assert response.status == 200
    async with signed.session.post(f"{url}/hospitals", json={"data": []}, headers=READER) as response:
        assert response.status == 403 and (await response.json())["code"] == "HG4004"
    journal = f"{signed.url}/journal/v1/exchanges"
    async with signed.session.get(journal) as response:
        assert response.status == 401
    async with signed.session.get(journal, headers=READER) as response:
        assert response.status == 200 and (await response.json())["code"] == 0


async def test_soap_carries_the_same_signature(signed: Signed) -> None:
    message = ("<Request><Header><MessageID>S1</MessageID></Header><Body><HospitalCode>T2</HospitalCode>"
               f"<CardNo>{PERSONS['poor'].certno}</CardNo></Body></Request>")

    def call(credential: HospitalCredential | None) -> str:
        class SigningTransport(zeep.transports.Transport):  # type: ignore[misc]
            def post(self, address: str, message: bytes | str, headers: dict[str, str]) -> object:
                body = message if isinstance(message, bytes) else message.encode()
                if credential is not None:
                    headers = {**headers, **signed_headers(credential, body)}
                return super().post(address, body, headers)

        client = zeep.Client(f"{signed.url}/soap/dhc?wsdl", transport=SigningTransport())
        return str(client.service.HIPMessageServer("GetPatInfo", message))

    answer = await asyncio.to_thread(call, signed.credential("T2"))
    assert "<ResultCode>0</ResultCode>" in answer
    with pytest.raises(zeep.exceptions.Fault, match="HG4002"):
        await asyncio.to_thread(call, None)


@pytest.mark.parametrize(("text", "words"), [
    ("[hospitals.T2]\nsecret = 'short'\n", "at least 16"),
    ("[hospitals.T2]\nsecret = 't2-secret-0123456789'\nscheme = 'md5'\n", "scheme"),
    ("[county.x]\ntoken = 'county-admin-token-0001'\nrole = 'root'\n", "role"),
    ("[hospital.T2]\nsecret = 't2-secret-0123456789'\n", "unknown section"),
])
def test_a_bad_credentials_file_is_refused_with_the_key(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "credentials.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CredentialsError, match=words):
        load_credentials(path)


async def test_https_from_settings(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    made = await asyncio.create_subprocess_exec(
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    assert await made.wait() == 0
    settings = Settings(db_path=tmp_path / "hisgw.sqlite", tls_cert=cert, tls_key=key)
    gateway = build_gateway(settings)
    runner = web.AppRunner(build_app(gateway, lambda: DIALECTS))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls_context(settings))
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        trusted = ssl.create_default_context(cafile=str(cert))
        async with aiohttp.ClientSession() as session:
            async with session.get(f"https://127.0.0.1:{port}/health", ssl=trusted) as response:
                assert response.status == 200
            with pytest.raises(aiohttp.ClientError):  # plain HTTP gets nothing from an HTTPS-only listener
                async with session.get(f"http://127.0.0.1:{port}/health") as response:
                    await response.read()
        # MLLP over TLS with the same certificate ([hl7] tls = true)
        mllp = MllpListener(gateway, lambda: DIALECTS)
        await mllp.start("127.0.0.1", 0, tls_context(settings))
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", mllp.port, ssl=trusted)
            writer.write(b"\x0bMSH|^~\\&|HIS|T2|HISGW|NHSA|20260301080000||QRY^A19|T1|P|2.5\rQRD|x\r\x1c\r")
            await writer.drain()
            answer = await asyncio.wait_for(reader.readuntil(b"\x1c\r"), 5)
            assert b"MSA|" in answer and b"|T1" in answer
            writer.close()
        finally:
            await mllp.stop()
    finally:
        await runner.cleanup()
        gateway.close()


async def test_mllp_messages_carry_the_signature_in_msh8(tmp_path: Path) -> None:
    from hl7.mllp import open_hl7_connection

    from gateway.adapters.mllp_listener import Limits as MllpLimits

    path = tmp_path / "credentials.toml"
    path.write_text(CREDENTIALS, encoding="utf-8")
    authenticator = Authenticator(load_credentials(path))
    gateway = build_gateway(Settings(db_path=tmp_path / "hisgw.sqlite"))
    mllp = MllpListener(gateway, lambda: DIALECTS, authenticator=authenticator, limits=MllpLimits(max_connections=1))
    await mllp.start("127.0.0.1", 0)
    try:
        reader, writer = await open_hl7_connection("127.0.0.1", mllp.port)

        async def ack(security: str, control_id: str) -> str:
            message = (f"MSH|^~\\&|HIS|T2|HISGW|NHSA|20260301080000|{security}|QRY^A19|{control_id}|P|2.5|||||CHN|"
                       f"UNICODE UTF-8\rQRD|20260301080000|R|I|Q1|||1^RD|{PERSONS['poor'].certno}|DEM\r")
            writer.writeblock(message.encode())
            await writer.drain()
            answer: bytes = await asyncio.wait_for(reader.readblock(), 5)
            return answer.decode()

        def security(code: str) -> str:
            headers = signed_headers(next(c for c in authenticator.credentials.hospitals.values()
                                          if c.fixmedins_code == code), b"", scheme="tif")
            return "^".join(headers[name] for name in ("x-tif-paasid", "x-tif-timestamp", "x-tif-nonce",
                                                         "x-tif-signature"))

        signed_as_t2 = security("T2")
        assert "MSA|AE|M2" in await ack("", "M2") and "HG4002" in await ack("", "M2b")
        assert "HG4003" in await ack(security("T3"), "M3")  # T3's credentials on T2's message
        assert "HG2002" in await ack(signed_as_t2, "M1")  # signed and accepted: nothing is loaded in this gateway
        assert "HG4002" in await ack(signed_as_t2, "M4")  # the same signature again: a replay
        # the listener's one connection is taken: another is told it is busy
        other_reader, other_writer = await open_hl7_connection("127.0.0.1", mllp.port)
        busy: bytes = await asyncio.wait_for(other_reader.readblock(), 5)
        assert b"HG9002" in busy
        other_writer.close()
        writer.close()
    finally:
        await mllp.stop()
        gateway.close()
