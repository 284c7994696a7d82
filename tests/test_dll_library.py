"""The embedded-DLL library, built with gcc and loaded with ctypes exactly as a HIS loads its vendor DLL,
talking over TCP on 127.0.0.1 to the gateway's DLL listener."""

from __future__ import annotations

import asyncio
import ctypes
import os
import shutil
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.adapters.dll_listener import start_dll_listener
from gateway.auth.credentials import load_credentials
from gateway.auth.signature import Authenticator
from gateway.mapping.registry import DialectBook, check_all
from tests.support import PERSONS, Served

ROOT = Path(__file__).resolve().parent.parent
DIALECTS, _ = check_all(ROOT / "mappings")


@pytest.fixture(scope="session")
def library_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dll/hisgw_dll.c compiled here with the Makefile's flags, so the test command builds it too."""
    out = tmp_path_factory.mktemp("dll") / "libhisgw_dll.so"
    subprocess.run(["gcc", "-std=c99", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Wextra", "-Werror", "-O2", "-fPIC",
                    "-shared", "-fvisibility=hidden", "-o", str(out), str(ROOT / "dll" / "hisgw_dll.c"), "-lpthread",
                    "-lcrypto"],
                   check=True)
    return out


@dataclass
class Library:
    """One loaded copy of the library (a copy per configuration: INIT reads its file once per process image)."""

    lib: ctypes.CDLL
    out_size: int

    def handle(self, text: str, buffer_size: int | None = None) -> tuple[int, str]:
        out = ctypes.create_string_buffer(buffer_size or self.out_size)
        rc = self.lib.BUSINESS_HANDLE(text.encode("gbk"), out)
        return rc, out.value.decode("gbk")


@pytest.fixture
def load_library(library_build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    count = 0

    def load(port: int, *, out_size: int = 8192, timeout_ms: int = 5000, dialect: str = "neusoft-dll",
             extra: str = "") -> Library:
        nonlocal count
        count += 1
        copy = tmp_path / f"libhisgw_dll_{count}.so"
        shutil.copy(library_build, copy)
        config = tmp_path / f"hisgw_dll_{count}.ini"
        config.write_text(f"host = 127.0.0.1\nport = {port}\ntimeout_ms = {timeout_ms}\ndialect = {dialect}\n"
                          f"out_size = {out_size}\n{extra}", encoding="ascii")
        monkeypatch.setenv("HISGW_DLL_CONFIG", str(config))
        lib = ctypes.CDLL(str(copy))
        lib.INIT.argtypes = [ctypes.c_char_p]
        lib.BUSINESS_HANDLE.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        err = ctypes.create_string_buffer(256)
        assert lib.INIT(err) == 0, err.value.decode("gbk")
        return Library(lib, out_size)

    yield load


@pytest.fixture
async def dll_port(served: Served) -> AsyncIterator[int]:
    server = await start_dll_listener(served.gateway, lambda: DIALECTS, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


class Stay:
    def __init__(self, library: Library, hospital: str = "T2") -> None:
        self.library = library
        self.hospital = hospital
        self.serial = 0

    async def call(self, trade: str, params: str) -> tuple[int, str]:
        self.serial += 1
        text = f"{trade}^{self.hospital}^001^C01^H{os.getpid()}{time.monotonic_ns()}{self.serial}^430521^{params}^1^"
        return await asyncio.to_thread(self.library.handle, text)

    async def ok(self, trade: str, params: str) -> list[str]:
        rc, out = await self.call(trade, params)
        assert rc == 0, out
        return out.split("^")[2].split("|")


async def test_a_whole_stay_through_the_loaded_library(dll_port: int, load_library: object) -> None:
    library = load_library(dll_port)  # type: ignore[operator]
    stay = Stay(library)
    person = PERSONS["poor"]
    assert (await stay.ok("9100", ""))[0]
    card = await stay.ok("2100", f"{person.certno}|1|")
    assert card[1] == "测试poor"  # the name came back through GBK
    mdtrt_id, _ = await stay.ok("2210", f"{person.psn_no}|20260301080000|住院001|A03|呼吸内科|12床|J18.900|肺炎|D01")
    rows = "\n".join([
        f"F1|{mdtrt_id}|{person.psn_no}|A|H-A|阿莫西林胶囊|100|145.00|14500.00|20260302100000",
        f"F2|{mdtrt_id}|{person.psn_no}|B10|H-B|头孢呋辛酯片|1|4000|4000.00|20260302100000",
        f"F3|{mdtrt_id}|{person.psn_no}|C|H-C|自费耗材|3|500|1500.00|20260302100000",
    ])
    await stay.ok("2310", rows)
    trial = await stay.ok("2420", f"{mdtrt_id}|{person.psn_no}|20000.00")
    settled = await stay.ok("2410", f"{mdtrt_id}|{person.psn_no}|20000.00")
    assert trial[1:-1] == settled[1:-1]
    assert settled[6:12] == ["15172.50", "0.00", "1463.75", "1171.00", "0.00", "192.75"]
    assert settled[14] == "2000.00"
    rc, text = await stay.call("2410", f"{mdtrt_id}|{person.psn_no}|20000.00")
    assert rc == -2 and text.startswith("HG3004:") and "已结算" in text
    reversal = await stay.ok("2430", f"{mdtrt_id}|{person.psn_no}|{settled[0]}")
    assert reversal[1] == settled[0]


async def test_a_second_dialect_of_another_shape_is_only_a_file(dll_port: int, load_library: object) -> None:
    """yunnan-dll: |-only strings, other trade codes, 男/女 and 甲/乙/丙 tables; the same fen."""
    library = load_library(dll_port, dialect="yunnan-dll")  # type: ignore[operator]
    person = PERSONS["poor"]
    serial = iter(range(1, 100))

    async def ok(trade: str, params: str) -> list[str]:
        text = f"{trade}|T2|001|YN{time.monotonic_ns()}{next(serial)}|{params}"
        rc, out = await asyncio.to_thread(library.handle, text)
        assert rc == 0, out
        return out.split("|")[1:]

    assert (await ok("03", person.certno))[:3] == [person.psn_no, "测试poor", "男"]
    (mdtrt_id,) = await ok("21", f"{person.psn_no}|2026-03-01 08:00:00|ZY9|肺炎")
    lines = await ok("31", "$".join([f"{mdtrt_id}#Y1#A#14500.00#100#145", f"{mdtrt_id}#Y2#B10#4000.00",
                                      f"{mdtrt_id}#Y3#C#1500.00#3#500"]))
    assert [row.split("#")[1] for row in "|".join(lines).split("$")] == ["甲", "乙", "丙"]
    settled = await ok("42", f"{mdtrt_id}|20000.00")
    assert settled[:8] == ["20000.00", "15172.50", "0.00", "1463.75", "1171.00", "0.00", "192.75", "2000.00"]
    rc, text = await asyncio.to_thread(library.handle, f"42|T2|001|YN-again|{mdtrt_id}|20000.00")
    assert rc == -2 and text.startswith("HG3004|")
    assert (await ok("43", settled[8]))[1] == "-20000.00"


async def test_gateway_down_is_a_system_error(load_library: object) -> None:
    import socket

    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    library = load_library(port)  # type: ignore[operator]
    rc, text = await asyncio.to_thread(library.handle, "9100^T2^001^C^M1^430521^^1^")
    assert rc == -1 and "无法连接医保网关" in text


async def test_no_answer_in_time_is_a_system_error_that_says_reverse(load_library: object) -> None:
    writers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)  # reads the request, never answers
        await reader.read(1 << 16)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    library = load_library(server.sockets[0].getsockname()[1], timeout_ms=300)  # type: ignore[operator]
    started = time.monotonic()
    rc, text = await asyncio.to_thread(library.handle, "9100^T2^001^C^M1^430521^^1^")
    assert rc == -1 and "超时" in text and "冲正" in text
    assert time.monotonic() - started < 2
    for writer in writers:
        writer.close()
        await writer.wait_closed()
    server.close()
    await server.wait_closed()


async def test_an_answer_longer_than_the_buffer_is_refused_without_overflow(dll_port: int,
                                                                          load_library: object) -> None:
    library = load_library(dll_port, out_size=48)  # type: ignore[operator]
    guard = ctypes.create_string_buffer(b"\xaa" * 80, 80)
    text = f"2100^T2^001^C^M{time.monotonic_ns()}^430521^{PERSONS['poor'].certno}|1|^1^"
    rc = await asyncio.to_thread(library.lib.BUSINESS_HANDLE, text.encode("gbk"), guard)
    assert rc == -1
    assert "应答超出输出缓冲区长度" in guard.value.decode("gbk")
    assert guard.raw[48:] == b"\xaa" * 32  # not one byte past out_size


async def test_malformed_input_is_a_business_error(dll_port: int, load_library: object) -> None:
    library = load_library(dll_port)  # type: ignore[operator]
    for text, words in [("2410^T2^only-three^", "段"), ("8888^T2^001^C^M1^430521^^1^", "业务编号"),
                        ("2210^T2^001^C^M9^430521^TP0001|2026-03-01^1^", "%Y%m%d%H%M%S")]:
        rc, out = await asyncio.to_thread(library.handle, text)
        assert rc == -2 and words in out, out


async def test_calls_from_many_threads_at_once(dll_port: int, load_library: object) -> None:
    library = load_library(dll_port)  # type: ignore[operator]
    people = [p for p in PERSONS.values() if not p.uninsured_reason]

    def read_card(n: int) -> tuple[int, str, str]:
        person = people[n % len(people)]
        rc, out = library.handle(f"2100^T2^001^C^T{n}-{time.monotonic_ns()}^430521^{person.certno}|1|^1^")
        return rc, out, person.psn_no

    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = await asyncio.gather(*(loop.run_in_executor(pool, read_card, n) for n in range(64)))
    assert all(rc == 0 and out.split("^")[2].split("|")[0] == psn_no for rc, out, psn_no in results)


async def test_reloading_mappings_under_load_loses_no_call(served: Served, load_library: object,
                                                           tmp_path: Path) -> None:
    folder = tmp_path / "mappings"
    folder.mkdir()
    original = (ROOT / "mappings" / "neusoft-dll.yaml").read_text(encoding="utf-8")
    anchor = "      - output.idetinfo[psn_idet_type=0006].psn_idet_type\n"
    assert anchor in original
    mapping = folder / "neusoft-dll.yaml"
    mapping.write_text(original, encoding="utf-8")
    book = DialectBook(folder)
    assert book.reload() == []
    server = await start_dll_listener(served.gateway, lambda: book.current, "127.0.0.1", 0)
    library = load_library(server.sockets[0].getsockname()[1])  # type: ignore[operator]
    certno = PERSONS["poor"].certno
    stop = threading.Event()
    answers: list[tuple[int, str]] = []

    def hammer(n: int) -> None:
        while not stop.is_set():
            answers.append(library.handle(f"2100^T2^001^C^R{n}-{time.monotonic_ns()}^430521^{certno}|1|^1^"))

    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=8) as pool:
        workers = [loop.run_in_executor(pool, hammer, n) for n in range(8)]
        try:
            for version in range(1, 7):
                await asyncio.sleep(0.05)
                if version == 4:  # a broken version: refused with its line, the previous one keeps serving
                    mapping.write_text(original.replace("transport: dll", "transport: fax"), encoding="utf-8")
                    assert book.reload()[0].line == original.splitlines().index("transport: dll") + 1
                else:  # each good version adds a marker at the end of the 2100 answer
                    mapping.write_text(original.replace(anchor, f'{anchor}      - {{value: "V{version}"}}\n'),
                                       encoding="utf-8")
                    assert book.reload() == []
            await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.gather(*workers)
    server.close()
    await server.wait_closed()
    assert len(answers) > 50
    assert all(rc == 0 for rc, _ in answers), [a for a in answers if a[0] != 0][:3]
    markers = {out.split("^")[2].split("|")[-1] for _rc, out in answers}
    assert "V6" in markers and markers <= {"", "V1", "V2", "V3", "V5", "V6"}


@pytest.mark.skipif(shutil.which("i686-w64-mingw32-gcc") is None, reason="Debian's gcc-mingw-w64-i686 not installed")
def test_32_bit_windows_build_exports_stdcall_functions(tmp_path: Path) -> None:
    """HIS processes on Windows are often 32-bit and bind INIT@4 / BUSINESS_HANDLE@8 as __stdcall."""
    dll, exports = tmp_path / "hisgw_dll.dll", tmp_path / "hisgw_dll.def"
    subprocess.run(["i686-w64-mingw32-gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-shared", "-o", str(dll),
                    str(ROOT / "dll" / "hisgw_dll.c"), f"-Wl,--kill-at,--output-def,{exports}", "-lws2_32", "-lbcrypt"],
                   check=True)
    lines = {line.split("@")[0].strip() + "@" + line.split("@")[1].split()[0]
             for line in exports.read_text().splitlines() if "=" in line}
    assert lines == {"BUSINESS_HANDLE = BUSINESS_HANDLE@8", "INIT = INIT@4", "VERSION = VERSION@4"}
    assert dll.read_bytes()[:2] == b"MZ"


async def test_the_library_signs_with_the_hospitals_credentials(served: Served, load_library: object,
                                                                tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.toml"
    credentials.write_text('[hospitals.T2]\npaasid = "paas-t2"\nsecret = "t2-secret-0123456789"\n'
                           '[hospitals.T3]\nsecret = "t3-secret-0123456789"\n', encoding="ascii")
    authenticator = Authenticator(load_credentials(credentials))
    server = await start_dll_listener(served.gateway, lambda: DIALECTS, "127.0.0.1", 0, authenticator=authenticator)
    port = server.sockets[0].getsockname()[1]
    try:
        signed = load_library(port, extra="paasid = paas-t2\nsecret = t2-secret-0123456789\n")  # type: ignore[operator]
        card = await Stay(signed).ok("2100", f"{PERSONS['poor'].certno}|1|")
        assert card[0] == PERSONS["poor"].psn_no
        # the library of T3 sending a message for T2
        impostor = load_library(port, extra="paasid = T3\nsecret = t3-secret-0123456789\n")  # type: ignore[operator]
        rc, text = await Stay(impostor).call("2100", f"{PERSONS['poor'].certno}|1|")
        assert rc == -2 and text.startswith("HG4003:")
        for extra in ("", "paasid = paas-t2\nsecret = wrong-secret-0123456789\n"):
            library = load_library(port, extra=extra)  # type: ignore[operator]
            rc, text = await Stay(library).call("2100", f"{PERSONS['poor'].certno}|1|")
            assert rc == -2 and text.startswith("HG4002:"), text
    finally:
        server.close()
        await server.wait_closed()
