"""HL7 v2 over MLLP (mappings/hl7v2.yaml): a real MLLP client (python-hl7's) on 127.0.0.1 against the real
listener over the real gateway. Answers are read back with python-hl7's own parser, not ours."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import hl7
import pytest
from hl7.mllp import open_hl7_connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.adapters.dialect_call import call_dialect
from gateway.adapters.mllp_listener import Limits, MllpListener, pick_dialect
from gateway.mapping.compile import MappingError, compile_mapping
from gateway.service.verify import verify_accumulators
from tests import support
from tests.conftest import DIALECTS
from tests.support import PERSONS, Served

MAPPINGS = Path(__file__).resolve().parent.parent / "mappings"
UTF8, GB18030 = "UNICODE UTF-8", "GB 18030-2000"
CODECS = {UTF8: "utf-8", GB18030: "gb18030", "": "utf-8"}


def segment(name: str, fields: dict[int, str]) -> str:
    """A segment with the given fields at their positions, the others empty."""
    return "|".join([name, *(fields.get(n, "") for n in range(1, max(fields) + 1))])


def msh(message_type: str, control_id: str, *, hospital: str = "T2", charset: str = UTF8, sender: str = "HIS",
        receiver: str = "HISGW") -> str:
    return f"MSH|^~\\&|{sender}|{hospital}|{receiver}|NHSA|20260301080000||{message_type}|{control_id}|P|2.5|||||CHN|" \
           f"{charset}"


def pid(person: support.TestPerson) -> str:
    return f"PID|1||{person.psn_no}^^^NHSA^PN~{person.certno}^^^CHN^NNCHN||测试^病人||19600101|M"


def pv1(mdtrt_id: str = "", **fields: str) -> str:
    numbered = {int(key[1:]): value for key, value in fields.items()}
    return segment("PV1", {1: "1", 2: "I", 50: mdtrt_id, **numbered})


def ft1(n: int, sn: str, code: str, name: str, count: str, price: str, amount: str,
        at: str = "20260302100000") -> str:
    return segment("FT1", {1: str(n), 2: sn, 4: at, 6: "CG", 7: f"{code}^{name}^^H-{code}", 10: count, 11: amount,
                           12: price, 13: "A03^内科", 21: "D01^王医生"})


WORKED_EXAMPLE_LINES = (("F1", "A", "阿莫西林", "100", "145.00", "14500.00"),
                        ("F2", "B10", "头孢", "1", "4000", "4000.00"),
                        ("F3", "C", "自费材料", "3", "500", "1500.00"))


class Ack:
    """An answer as python-hl7 reads it."""

    def __init__(self, raw: bytes, codec: str) -> None:
        self.raw = raw
        self.text = raw.decode(codec)
        self.message = hl7.parse(self.text)

    def __getitem__(self, key: str) -> str:
        """python-hl7's accessor: "ZSA.F3", "PID.F3.R2.C1" (a field alone reads its first component, unescaped)."""
        return str(self.message[key])

    def whole(self, name: str, field: int) -> str:
        """A whole field, as written (components and escapes included)."""
        try:
            return str(self.message.segment(name)(field))
        except IndexError:
            return ""

    @property
    def status(self) -> str:
        return self["MSA.F1"]

    def fields(self, name: str, count: int) -> list[str]:
        return [self[f"{name}.F{n}"] for n in range(1, count + 1)]

    def rows(self, name: str, count: int) -> list[list[str]]:
        return [[str(seg(n)) if n < len(seg) else "" for n in range(1, count + 1)] for seg in
                self.message.segments(name)]


class His:
    """A HIS's interface engine: one MLLP connection, one message at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.serial = 0

    async def exchange(self, raw: bytes) -> bytes:
        self.writer.writeblock(raw)  # type: ignore[attr-defined]
        await self.writer.drain()
        block: bytes = await asyncio.wait_for(self.reader.readblock(), 5)  # type: ignore[attr-defined]
        return block

    def message(self, message_type: str, *segments: str, control_id: str = "", charset: str = UTF8,
                **header: str) -> bytes:
        self.serial += 1
        head = msh(message_type, control_id or f"HIS{self.serial:06d}", charset=charset, **header)
        return ("\r".join([head, *segments]) + "\r").encode(CODECS[charset])

    async def send(self, message_type: str, *segments: str, control_id: str = "", charset: str = UTF8,
                   **header: str) -> Ack:
        raw = self.message(message_type, *segments, control_id=control_id, charset=charset, **header)
        return Ack(await self.exchange(raw), CODECS[charset])

    async def ok(self, message_type: str, *segments: str, **kwargs: str) -> Ack:
        ack = await self.send(message_type, *segments, **kwargs)
        assert ack.status == "AA", ack.text
        return ack


@pytest.fixture
async def listener(served: Served) -> AsyncIterator[MllpListener]:
    mllp = MllpListener(served.gateway, lambda: DIALECTS, limits=Limits(max_message=64 * 1024, read_timeout=0.3))
    await mllp.start("127.0.0.1", 0)
    yield mllp
    await mllp.stop()


async def connect(listener: MllpListener) -> His:
    reader, writer = await open_hl7_connection("127.0.0.1", listener.port)
    return His(reader, writer)


@pytest.fixture
async def his(listener: MllpListener) -> AsyncIterator[His]:
    client = await connect(listener)
    yield client
    client.writer.close()


async def admit(his: His, person: support.TestPerson, **header: str) -> str:
    admitted = await his.ok("ADT^A01^ADT_A01", "EVN|A01|20260301080000|||001^张医生", pid(person),
                            pv1(p3="A03^12^1^^^^^^内科", p19="ZY2026001", p44="20260301080000"),
                            "DG1|1||J18.900^肺炎^ICD10|||A", **header)
    assert admitted["PV1.F19"] == "ZY2026001"
    return admitted["PV1.F50"]


async def test_worked_example_to_the_fen_over_mllp(his: His) -> None:
    person = PERSONS["poor"]
    card = await his.ok("QRY^A19", f"QRD|20260301080000|R|I|Q0001|||1^RD|{person.certno}|DEM")
    assert card.whole("MSH", 9) == "ADR^A19^ADR_A19" and card["MSA.F2"] == "HIS000001"
    assert (card["PID.F3.R1.C1"], card["PID.F3.R2.C1"], card["PID.F5"], card["PID.F8"]) == (
        person.psn_no, person.certno, "测试poor", "M")
    assert card.fields("ZPI", 6) == ["0001", "", "", "", "", ""] and card["IN1.F2"] == "390"

    mdtrt_id = await admit(his, person)
    stay = (pid(person), pv1(mdtrt_id))
    uploaded = await his.ok("DFT^P03", "EVN|P03|20260302100000", *stay,
                            *(ft1(n, *line) for n, line in enumerate(WORKED_EXAMPLE_LINES, start=1)))
    assert uploaded.whole("MSH", 9) == "ACK^P03^ACK"
    assert uploaded.rows("ZFT", 7) == [["F1", "14500.00", "01", "0", "0.00", "0.00", "14500.00"],
                                       ["F2", "4000.00", "02", "0.10", "0.00", "400.00", "3600.00"],
                                       ["F3", "1500.00", "03", "0", "1500.00", "0.00", "0.00"]]

    trial = await his.ok("ZSR^Z01", *stay, "ZSR|1|20000.00")
    settle = his.message("ZSR^Z02", *stay, "ZSR|1|20000.00", control_id="SETTLE-0001")
    settled = Ack(await his.exchange(settle), "utf-8")
    assert settled.status == "AA" and settled["MSA.F2"] == "SETTLE-0001"
    setl_id = settled["ZSA.F1"]
    assert setl_id and trial["ZSA.F1"] == "" and trial.fields("ZSF", 6) == settled.fields("ZSF", 6)
    # DOMAIN.md's worked example, every one-stop fund to the fen
    assert settled.fields("ZSF", 6) == ["15172.50", "0.00", "1463.75", "1171.00", "0.00", "192.75"]
    assert settled.fields("ZSA", 10)[2:] == ["20000.00", "1500.00", "400.00", "18100.00", "250.00", "18000.00",
                                             "0.00", "2000.00"]

    assert await his.exchange(settle) == settled.raw  # a retry with the same MSH-10: the first answer, byte for byte
    again = await his.send("ZSR^Z02", *stay, "ZSR|1|20000.00")
    assert (again.status, again["ERR.F3.R1.C1"], again["ERR.F5.R1.C1"]) == ("AE", "205", "HG3004")
    assert again["MSA.F3"].startswith("HG3004:已结算") and again["ERR.F8"] == again["MSA.F3"]

    reversed_ = await his.ok("ZSR^Z03", *stay, "ZSR|1|||||" + setl_id)
    assert reversed_["ZSA.F12"] == setl_id and reversed_["ZSA.F1"] not in ("", setl_id)
    assert reversed_["ZSA.F3"] == "-20000.00"
    assert reversed_.fields("ZSF", 6) == ["-15172.50", "0.00", "-1463.75", "-1171.00", "0.00", "-192.75"]
    resettled = await his.ok("ZSR^Z02", *stay, "ZSR|1|20000.00")
    assert resettled.fields("ZSF", 6) == settled.fields("ZSF", 6)  # the reversal gave the year's figures back

    await his.ok("ADT^A03", *stay[:1], pv1(mdtrt_id, p36="1", p45="20260310090000"))
    await his.ok("ADT^A13", *stay)


async def test_admission_change_and_cancel(his: His) -> None:
    person = PERSONS["poor2"]
    mdtrt_id = await admit(his, person)
    await his.ok("ADT^A08", pid(person), pv1(mdtrt_id, p3="A04^15^1^^^^^^外科"), "DG1|1||J18.900^肺炎^ICD10")
    await his.ok("ADT^A11", pid(person), pv1(mdtrt_id))
    late = await his.send("DFT^P03", pid(person), pv1(mdtrt_id), ft1(1, "F1", "A", "x", "1", "1.00", "1.00"))
    assert (late.status, late["ERR.F5.R1.C1"]) == ("AE", "HG3002")


async def test_gb18030_names_and_answers(his: His) -> None:
    person = PERSONS["poor3"]
    card = await his.send("QRY^A19", f"QRD|20260301080000|R|I|Q0001|||1^RD|{person.certno}|DEM", charset=GB18030,
                          sender="東華HIS")  # 東 holds a 0x7C byte in GB 18030: MSH is decoded, not split as bytes
    assert card.status == "AA" and card["PID.F5"] == "测试poor3" and card["MSH.F18"] == GB18030
    assert card["MSH.F5"] == "東華HIS" and "测试poor3".encode("gb18030") in card.raw
    mdtrt_id = await admit(his, person, charset=GB18030)
    bad = await his.send("ADT^A03", pid(person), pv1(mdtrt_id, p45="二〇二六年䶮"), charset=GB18030)
    assert bad.status == "AR" and "'二〇二六年䶮'" in bad["MSA.F3"]  # 䶮: four bytes in GB 18030, none in GBK
    assert bad.whole("ERR", 2).startswith("PV1^1^45")


async def test_text_in_answers_is_escaped(his: His) -> None:
    bad = await his.send("ADT^A01", pid(PERSONS["poor"]), pv1(p44="2026\\F\\03^x"))
    assert bad.status == "AR"
    assert "'2026|03'" in bad["MSA.F3"]  # python-hl7 unescapes what we escaped
    assert "2026\\F\\03" in bad.text and "2026|03" not in bad.text


@pytest.mark.parametrize(("raw", "status", "echo", "code", "hl7_code", "where"), [
    (b"hello, not HL7", "AR", "", "HG1001", "100", ""),
    (msh("ADT^A03", "").encode() + b"\r" + pv1("1", p45="20260310090000").encode(), "AR", "", "HG1002", "101",
     "MSH^1^10"),
    (msh("ADT^A99", "X-99").encode(), "AR", "X-99", "HG1004", "200", "MSH^1^9"),
    ((msh("ADT^A01", "X-DATE") + "\r" + pid(PERSONS["poor"]) + "\r" + pv1(p44="2026-03-01 08:00")).encode(), "AR",
     "X-DATE", "HG1003", "102", "PV1^1^44"),
    ((msh("DFT^P03", "X-AMT") + "\r" + pid(PERSONS["poor"]) + "\r" + pv1("M1") + "\r"
      + ft1(1, "F1", "A", "x", "1", "1.00", "1.00") + "\r" + ft1(2, "F2", "A", "x", "1", "1.00", "abc")).encode(),
     "AR", "X-AMT", "HG1003", "102", "FT1^2^11"),
    ((msh("QRY^A19", "X-WHO") + "\rQRD|20260301080000|R|I|Q1|||1^RD|430521199901010004|DEM").encode(), "AE",
     "X-WHO", "HG2001", "204", ""),
    (msh("QRY^A19", "X-CS", charset="EBCDIC").encode(), "AR", "X-CS", "HG1003", "102", "MSH^1^18"),
    ((msh("ADT^A01", "X-ENC") + "\r" + pid(PERSONS["poor"])).encode("gbk"), "AR", "X-ENC", "HG1001", "100",
     "MSH^1^18"),
])
async def test_each_malformed_input_gets_its_status_and_err(his: His, raw: bytes, status: str, echo: str, code: str,
                                                            hl7_code: str, where: str) -> None:
    ack = Ack(await his.exchange(raw), "utf-8")
    assert (ack.status, ack["MSA.F2"], ack["ERR.F5.R1.C1"], ack["ERR.F3.R1.C1"], ack["ERR.F4"]) == (
        status, echo, code, hl7_code, "E")
    assert ack.whole("ERR", 2).startswith(where) if where else ack.whole("ERR", 2) == ""
    assert ack["MSA.F3"].startswith(code) and ack["MSH.F3"] == "HISGW"


async def test_a_frame_without_its_start_byte_is_answered_and_the_connection_goes_on(his: His) -> None:
    his.writer.write(msh("QRY^A19", "NO-VT").encode() + b"\x1c\r")
    ack = Ack(await asyncio.wait_for(his.reader.readblock(), 5), "utf-8")  # type: ignore[attr-defined]
    assert (ack.status, ack["ERR.F5.R1.C1"]) == ("AR", "HG1001")
    his.writer.write(b"\r\n")  # stray line ends between frames are tolerated
    card = await his.ok("QRY^A19", f"QRD|20260301080000|R|I|Q0001|||1^RD|{PERSONS['poor'].certno}|DEM")
    assert card["PID.F3"] == PERSONS["poor"].psn_no


async def test_an_oversized_message_is_refused_and_the_connection_closed(listener: MllpListener, his: His) -> None:
    ack = Ack(await his.exchange(b"MSH|" + b"x" * (70 * 1024)), "utf-8")
    assert (ack.status, ack["ERR.F5.R1.C1"]) == ("AR", "HG1001") and "65536" in ack["MSA.F3"]
    assert await asyncio.wait_for(his.reader.read(), 5) == b""
    other = await connect(listener)  # the listener itself goes on
    assert (await other.ok("QRY^A19", f"QRD|1|R|I|Q|||1^RD|{PERSONS['poor'].certno}|DEM")).status == "AA"
    other.writer.close()


async def test_a_stalled_or_vanished_sender_is_dropped(listener: MllpListener) -> None:
    stalled = await connect(listener)
    stalled.writer.write(b"\x0bMSH|^~\\&|HIS|T2")  # and nothing more
    assert await asyncio.wait_for(stalled.reader.read(), 5) == b""  # closed after read_timeout
    stalled.writer.close()
    vanished = await connect(listener)
    vanished.writer.write(b"\x0bMSH|^~\\&|HIS|T2")
    vanished.writer.close()
    his = await connect(listener)
    assert (await his.ok("QRY^A19", f"QRD|1|R|I|Q|||1^RD|{PERSONS['poor'].certno}|DEM")).status == "AA"
    his.writer.close()


async def test_stop_closes_idle_connections(served: Served) -> None:
    mllp = MllpListener(served.gateway, lambda: DIALECTS)
    await mllp.start("127.0.0.1", 0)
    idle = await connect(mllp)
    await mllp.stop()
    assert await asyncio.wait_for(idle.reader.read(), 5) == b""
    idle.writer.close()


def test_several_hl7_dialects_are_told_apart_by_msh5(tmp_path: Path) -> None:
    text = (MAPPINGS / "hl7v2.yaml").read_text(encoding="utf-8")
    path = tmp_path / "other.yaml"
    path.write_text(text.replace("dialect: hl7v2", "dialect: other").replace("application: HISGW",
                                                                             "application: OTHER"), encoding="utf-8")
    dialects = {**DIALECTS, "other": compile_mapping(path)}
    picked = [pick_dialect(dialects, msh("QRY^A19", "1", receiver=receiver).encode(), default)
              for receiver, default in (("OTHER", ""), ("HISGW", ""), ("NOBODY", "other"), ("NOBODY", ""))]
    assert [dialect.name if dialect else None for dialect in picked] == ["other", "hl7v2", "other", None]
    assert pick_dialect({"hl7v2": DIALECTS["hl7v2"]}, b"junk", "") is DIALECTS["hl7v2"]  # one dialect: it


@pytest.mark.parametrize(("change", "line_of", "words"), [
    (("{at: PV1-44, to: input.mdtrtinfo.begntime", "{at: PV1.44, to: input.mdtrtinfo.begntime"), "at: PV1.44",
     "HL7 field locator"),
    (("  ADT^A01:\n", "  ADT-A01:\n"), "ADT-A01:", "HL7 message type"),
    (("{at: ZFT-7, from: inscp_scp_amt", "{at: ZSA-7, from: inscp_scp_amt"), "at: ZFT", "not in segment ZFT"),
    (("  msgid: MSH-10\n", "  msgid: MSH-2\n"), "msgid: MSH-2", "separators"),
    (("{GBK: gbk,", "{GBK: gbk9,"), "charsets: {GBK: gbk9", "unknown codec"),
    (("  facility: NHSA\n", ""), "kind: hl7", "needs 'facility'"),
])
def test_a_mapping_mistake_is_refused_with_file_and_line(tmp_path: Path, change: tuple[str, str], line_of: str,
                                                         words: str) -> None:
    text = (MAPPINGS / "hl7v2.yaml").read_text(encoding="utf-8")
    assert change[0] in text
    broken = text.replace(change[0], change[1], 1)
    path = tmp_path / "hl7v2.yaml"
    path.write_text(broken, encoding="utf-8")
    expected_line = next(n for n, line in enumerate(broken.splitlines(), 1) if line_of in line)
    with pytest.raises(MappingError) as caught:
        compile_mapping(path)
    assert (caught.value.line, str(path) in str(caught.value)) == (expected_line, True), str(caught.value)
    assert words in caught.value.problem


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_hisgw_serve_answers_mllp_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "--db", str(tmp_path / "hisgw.sqlite"), "serve", "--init", "--port",
         str(free_port()), "--dll-port", str(free_port()), "--hl7-port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError):
                reader, writer = await open_hl7_connection("127.0.0.1", port)
                break
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            await asyncio.sleep(0.05)
        his = His(reader, writer)
        unknown = await his.send("QRY^A19", "QRD|1|R|I|Q|||1^RD|430521199901010004|DEM")
        assert (unknown.status, unknown["ERR.F5.R1.C1"]) == ("AE", "HG2002")  # an empty county: no hospital T2
        server.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(reader.read(), 5) == b""  # the idle connection is closed
        writer.close()
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
        returncode = server.wait(timeout=10)
        log.close()
    assert returncode == 0


HOSTILE = st.sampled_from([
    "", " ", "|", "^", "~", "\\", "&", "\\F\\", "\\X0D\\", "\\E", "\r", "\n", "\r\n", "\x0b", "\x1c\r", "\x00",
    "MSH|^~\\&|", "NaN", "-0", "1e999", "0.001", "99999999999999999999.99", "20260230080000", "2026-03-01",
    "UNICODE UTF-8", "GB 18030-2000", "EBCDIC", "中文", "東", "䶮", "😀", "A" * 3000,
])


BENIGN = ("F1", "1.00", "UNICODE UTF-8", "20260301080000")  # drawn often enough to get past the first check


def _hostile_messages(values: list[str], serial: int) -> list[str]:
    """Values put in raw, unescaped: a separator inside one reshapes the message, as a buggy HIS would."""
    v = values

    def head(message_type: str, n: int) -> str:
        return f"MSH|^~\\&|HIS|T2|HISGW|NHSA|{v[3]}||{message_type}|FZ{serial}-{n}|P|2.5|||||CHN|{v[2]}"

    stay = f"PID|1||{PERSONS['poor'].psn_no}{v[0]}\r" + pv1(f"NOSUCH{v[1]}", p44=v[3], p45=v[0])
    return [
        "\r".join([head("DFT^P03", 1), stay, ft1(1, v[0], "A", v[1], v[2], v[3], v[1]),
                   ft1(2, "F2", v[3], "x", v[1], v[1], v[2], at=v[0])]),
        "\r".join([head("ZSR^Z02", 2), stay, f"ZSR|1|{v[1]}|{v[2]}||{v[0]}|{v[3]}"]),
        "\r".join([head(f"QRY^{v[0][:3]}", 3), f"QRD|{v[1]}|R|I|Q|||1^RD|{v[2]}|DEM"]),
        "\r".join([head("ADT^A03", 4), stay, f"DG1|1||{v[1]}^{v[2]}"]),
    ]


def hostile_inputs(count: int) -> list[bytes]:
    inputs: list[bytes] = []

    @settings(max_examples=count, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        values = [data.draw(st.just(benign) | HOSTILE | st.text(max_size=16)) for benign in BENIGN]
        encoding = data.draw(st.sampled_from(["utf-8", "gb18030", "gbk", "latin-1"]))
        for text in _hostile_messages(values, 0):  # the control id is made unique when played
            raw = text.encode(encoding, errors="replace")
            damage = data.draw(st.sampled_from(["keep", "cut", "splice"]))
            at = data.draw(st.integers(0, len(raw)))
            raw = {"keep": raw, "cut": raw[:at], "splice": raw[:at] + data.draw(st.binary(max_size=8)) + raw[at:]}[
                damage]
            inputs.append(raw)

    draw()
    return inputs


async def test_hostile_messages_get_an_ack_never_a_crash(served: Served) -> None:
    """Generated damage over four message types: every answer is an ACK (AA, AE or AR) that python-hl7 reads,
    none is the system error an exception becomes, and nothing is settled."""
    dialect = DIALECTS["hl7v2"]
    statuses: set[str] = set()
    for number, raw in enumerate(hostile_inputs(150)):
        raw = raw.replace(b"|FZ0-", f"|FZ{number}-".encode(), 1)
        status, body = await call_dialect(served.gateway, dialect, raw)
        assert status in ("AA", "AE", "AR"), raw
        assert body.startswith(b"MSH|^~\\&|HISGW|NHSA|") or body.startswith(b"MSH|"), (raw, body)
        charset = body.split(b"\r", 1)[0].rsplit(b"|", 1)[-1].decode("ascii", errors="replace")
        ack = hl7.parse(body.decode(CODECS.get(charset, "utf-8"), errors="replace"))
        assert str(ack["MSA.F1"]) == status
        assert b"HG9001" not in body, (raw, body)
        statuses.add(status)
    assert {"AE", "AR"} <= statuses
    count, differences = verify_accumulators(served.gateway.deps.store)
    assert (count, differences) == (0, [])
