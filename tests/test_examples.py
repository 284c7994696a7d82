"""Every sample in examples/ played as a newcomer plays it, against `make serve`'s demo data on free ports.

The oracle is the worked example of DOMAIN.md, its arithmetic written out below: each journey settles demo
person D0001 (0001) at the level-2 county hospital H43052100002 with 甲 14,500, 乙 4,000 (10% first self-paid)
and 丙 1,500, then reverses the settlement. Six journeys in a row each get the same figures only because every
reversal gives the year's accumulators back (a third unreversed settlement would pass critical illness's 7,500).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from simulators.drivers.dll import library_path
from tests.demo_gateway import ROOT, DemoGateway, demo_gateway

EXAMPLES = ROOT / "examples"
FEN = Decimal("0.01")


def fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def worked_example() -> list[str]:
    """basic, 扶贫特惠保, assistance, backstop, personal: what every dialect's settlement answer carries."""
    a, b, c = Decimal("14500"), Decimal("4000"), Decimal("1500")
    total = a + b + c
    in_policy = total - c - fen(b * Decimal("0.10"))
    deductible = Decimal("500") / 2                       # level 2, halved for the poor
    basic = fen((in_policy - deductible) * Decimal("0.85"))  # 75% + 10 points
    compliant = in_policy - basic                          # 2,927.50 < 7,500: no critical illness
    special = fen(compliant * Decimal("0.5"))
    assistance = fen((compliant - special) * Decimal("0.8"))
    personal_so_far = total - basic - special - assistance  # hospital reduction: max(0, 1,500 − 2,000) = 0
    backstop = max(Decimal(0), personal_so_far - fen(total * Decimal("0.1")))
    personal = personal_so_far - backstop
    return [f"{value:.2f}" for value in (basic, special, assistance, backstop, personal)]


def steps(output: str) -> dict[str, str]:
    """The journey's output, step title → answer (each step is printed as `== title` then its answer)."""
    parts = output.split("\n== ")[1:]
    return {part.split("\n", 1)[0]: part.split("\n", 1)[1] if "\n" in part else "" for part in parts}


def carries(text: str, figures: list[str]) -> list[str]:
    """The figures the answer does not carry as a value of its own (not as part of a longer number)."""
    return [figure for figure in figures if not re.search(rf"(?<![\d.-]){re.escape(figure)}(?![\d])", text)]


def run(command: list[str], gateway: DemoGateway, **env: str) -> str:
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "HISGW_URL": gateway.url, **env})
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoGateway]:
    with demo_gateway(tmp_path_factory.mktemp("examples")) as served:
        yield served


# (how to run it, the step that settles, how a successful answer says so, number of steps)
JOURNEYS = {
    "nhsa-http": (["sh", "examples/nhsa-http/journey.sh"], "2304 结算", '"infcode":0', 7),
    "dhc-soap": (["sh", "examples/dhc-soap/journey.sh"], "InpatSettle 结算（2304）",
                 "&lt;ResultCode&gt;0&lt;/ResultCode&gt;", 6),
    "ncms-soap": (["sh", "examples/ncms-soap/journey.sh"], "InpatientCalculate 结算（sCalcType 1, 2304）",
                  "<tns:Result>0</tns:Result>", 6),
    "hl7v2": ([sys.executable, "examples/hl7v2/journey.py", "127.0.0.1", "{hl7_port}"], "5-ZSR_Z02-settle.hl7",
              "MSA|AA|", 6),
    "neusoft-dll": ([sys.executable, "examples/dll/journey.py", "neusoft-dll", "{library}"], "2410 rc=0", "", 7),
    "yunnan-dll": ([sys.executable, "examples/dll/journey.py", "yunnan-dll", "{library}"], "42 rc=0", "", 7),
}


def dll_config(gateway: DemoGateway, dialect: str, folder: Path) -> Path:
    """The example's .ini with the documented port (8081) rewritten to the test gateway's."""
    text = (EXAMPLES / "dll" / f"{dialect}.ini").read_text(encoding="ascii")
    assert "port = 8081\n" in text
    config = folder / f"{dialect}.ini"
    config.write_text(text.replace("port = 8081\n", f"port = {gateway.dll_port}\n"), encoding="ascii")
    return config


@pytest.mark.parametrize("dialect", list(JOURNEYS))
def test_journey_settles_the_worked_example(gateway: DemoGateway, dialect: str, tmp_path: Path) -> None:
    command, settle_step, success, count = JOURNEYS[dialect]
    values = {"hl7_port": str(gateway.hl7_port), "library": str(library_path())}
    env = {"HISGW_DLL_CONFIG": str(dll_config(gateway, dialect, tmp_path))} if dialect.endswith("-dll") else {}
    answers = steps(run([part.format(**values) for part in command], gateway, **env))
    assert len(answers) == count, answers
    for title, answer in answers.items():
        assert (success in answer) if success else title.endswith("rc=0"), f"{title}: {answer}"
    assert carries(answers[settle_step], worked_example()) == [], answers[settle_step]
    assert "-20000.00" in list(answers.values())[-1]  # the settlement reversed


def test_the_c_program_calls_the_library(gateway: DemoGateway, tmp_path: Path) -> None:
    if shutil.which("cc") is None:
        pytest.skip("no C compiler")
    program = tmp_path / "dll-call"
    subprocess.run(["cc", "-Wall", "-Wextra", "-Werror", "-o", str(program), str(EXAMPLES / "dll" / "call.c"),
                    "-ldl"], check=True)
    out = run([str(program), str(library_path()), "9100^H43052100002^001^C01^HIS0001^430521^^1^"], gateway,
              HISGW_DLL_CONFIG=str(dll_config(gateway, "neusoft-dll", tmp_path)))
    assert out.startswith("rc=0\n") and "^C01^" in out


def test_the_static_person_request_is_ready_as_it_is(gateway: DemoGateway) -> None:
    """The README's first curl: examples/nhsa-http/1101-person.json needs no placeholder filled."""
    body = (EXAMPLES / "nhsa-http" / "1101-person.json").read_bytes()
    assert b"@" not in body
    out = run(["curl", "-sS", "--fail-with-body", "-H", "Content-Type: application/json", "--data-binary",
               "@examples/nhsa-http/1101-person.json", f"{gateway.url}/fsi/api/rsfComIfsService/callService"],
              gateway)
    assert '"infcode":0' in out and '"psn_no":"D0001"' in out
