"""hisgw_dll.ini as dll/PROTOCOL.md documents it is what the library loads (inline comments and all), and INIT
refuses a bad value naming its key instead of succeeding and failing every call afterwards."""

from __future__ import annotations

import asyncio
import ctypes
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from tests.support import Served
from tests.test_dll_library import dll_port, library_build  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = (ROOT / "dll" / "PROTOCOL.md").read_text(encoding="utf-8")
DOCUMENTED = re.search(r"## Configuration.*?```ini\n(.*?)```", PROTOCOL, re.S).group(1)  # type: ignore[union-attr]


def loaded(library_build: Path, tmp_path: Path) -> ctypes.CDLL:  # noqa: F811
    copy = tmp_path / "libhisgw_dll_config.so"  # a copy of its own: INIT keeps the first good configuration
    shutil.copy(library_build, copy)
    lib = ctypes.CDLL(str(copy))
    lib.INIT.argtypes = [ctypes.c_char_p]
    lib.BUSINESS_HANDLE.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    return lib


def init(lib: ctypes.CDLL, config: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    config.write_text(text, encoding="utf-8")
    monkeypatch.setenv("HISGW_DLL_CONFIG", str(config))
    err = ctypes.create_string_buffer(256)
    rc = lib.INIT(err)
    return rc, err.value.decode("gbk")


def test_the_documented_file_is_the_shipped_example() -> None:
    assert (ROOT / "dll" / "hisgw_dll.ini.example").read_text(encoding="utf-8") == DOCUMENTED


async def test_the_documented_file_works(served: Served, dll_port: int, library_build: Path,  # noqa: F811
                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = loaded(library_build, tmp_path)
    assert "port = 8081\n" in DOCUMENTED
    text = DOCUMENTED.replace("port = 8081\n", f"port = {dll_port}\n")  # the test's free port; all else as written
    assert init(lib, tmp_path / "hisgw_dll.ini", text, monkeypatch) == (0, "")
    out = ctypes.create_string_buffer(4096)  # out_size = 4096 as documented
    serial = f"H{os.getpid()}{time.monotonic_ns()}"
    rc = await asyncio.to_thread(lib.BUSINESS_HANDLE, f"9100^T2^001^C01^{serial}^430521^^1^".encode("gbk"), out)
    assert rc == 0, out.value.decode("gbk")  # 9100 签到 answered by the gateway
    assert out.value.decode("gbk").split("^")[2]


def test_init_names_the_bad_key(library_build: Path, tmp_path: Path,  # noqa: F811
                                monkeypatch: pytest.MonkeyPatch) -> None:
    lib = loaded(library_build, tmp_path)
    config = tmp_path / "hisgw_dll.ini"
    good = "host = 127.0.0.1\nport = 8081\ntimeout_ms = 30000\n"
    cases = {
        "port = 80x1\n": 'port 不合法 ("80x1"): 应为1到65535的端口号',
        "port = 0\n": 'port 不合法 ("0")',
        "port = 70000   ; too big\n": 'port 不合法 ("70000")',
        "timeout_ms = 30s\n": 'timeout_ms 不合法 ("30s"): 应为1到3600000的整数（毫秒）',
        "timeout_ms =\n": 'timeout_ms 不合法 ("")',
        "out_size = -5\n": 'out_size 不合法 ("-5")',
        "host = gateway host\n": 'host 不合法 ("gateway host")',
        "host = ; nothing\n": 'host 不合法 ("")',
        "timeout = 30000\n": "未知配置项 timeout",
        "just words\n": "未知配置项 just words",
        "paasid = h43052100001\n": "secret 不合法: paasid与secret须同时设置或同时省略",
        "paasid = h1\nsecret = two words here\n": "secret 不合法: 不能为空",
    }
    for line, expected in cases.items():
        rc, message = init(lib, config, good + line, monkeypatch)
        assert (rc, message.startswith(f"{config}: ")) == (-1, True), (line, message)
        assert expected in message, (line, message)
        assert "two words" not in message  # a secret's value is never shown
    monkeypatch.setenv("HISGW_DLL_CONFIG", str(tmp_path / "absent.ini"))
    err = ctypes.create_string_buffer(256)
    assert lib.INIT(err) == -1 and err.value.decode("gbk") == f"无法打开配置文件 {tmp_path / 'absent.ini'}"
    # Inline comments never reach a value: this one is good, and INIT keeps it.
    assert init(lib, config, good + "dialect = yunnan-dll # the other shape\nout_size = 8192 ;\n",
                monkeypatch) == (0, "")
