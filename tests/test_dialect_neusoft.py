"""The neusoft-dll dialect, declared in mappings/neusoft-dll.yaml, through the one road to the engine.

These drive the codec and the gateway in process (the DLL library and its TCP listener are the transport
that will carry the same bytes).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from gateway.adapters.dialect_call import call_dialect
from gateway.cli import main
from gateway.mapping.compile import MappingError, compile_mapping
from gateway.mapping.model import Dialect
from gateway.mapping.registry import check_all
from tests.support import PERSONS, Served

MAPPINGS = Path(__file__).resolve().parent.parent / "mappings"
NEUSOFT = compile_mapping(MAPPINGS / "neusoft-dll.yaml")
D = Decimal


class Dll:
    """What a HIS passes to BUSINESS_HANDLE, and what it reads back."""

    def __init__(self, served: Served, dialect: Dialect = NEUSOFT, hospital: str = "T2") -> None:
        self.served = served
        self.dialect = dialect
        self.hospital = hospital
        self.serial = 0

    async def handle(self, trade: str, params: str) -> tuple[int, list[str]]:
        self.serial += 1
        text = f"{trade}^{self.hospital}^001^CYCLE1^HIS{self.serial:08d}^430521^{params}^1^"
        rc, out = await call_dialect(self.served.gateway, self.dialect, text.encode("gbk"))
        return int(rc), out.decode("gbk").split("^")

    async def ok(self, trade: str, params: str) -> list[str]:
        rc, parts = await self.handle(trade, params)
        assert rc == 0, parts
        assert parts[1] == "CYCLE1" and parts[-1] == ""  # 业务周期号 echoed, trailing separator
        return parts[2].split("|")


async def test_worked_example_through_the_dll_dialect(served: Served) -> None:
    dll = Dll(served)
    person = PERSONS["poor"]
    assert (await dll.ok("9100", ""))[0]
    card = await dll.ok("2100", f"{person.certno}|1|")
    assert card[0] == person.psn_no and card[10] == "0001" and card[11] == ""
    mdtrt_id, _ipt = await dll.ok("2210", f"{person.psn_no}|20260301080000|ZY2026001|A03|内科|12|J18.900|肺炎|D01")
    rows = "\n".join([
        f"F1|{mdtrt_id}|{person.psn_no}|A|H-A|阿莫西林|100|145.00|14500.00|20260302100000",
        f"F2|{mdtrt_id}|{person.psn_no}|B10|H-B|头孢|1|4000|4000.00|20260302100000",
        f"F3|{mdtrt_id}|{person.psn_no}|C|H-C|自费材料|3|500|1500.00|20260302100000",
    ])
    lines = (await dll.ok("2310", rows))
    assert [line.split("\t")[2] for line in "|".join(lines).split("\n")] == ["1", "2", "3"]
    trial = await dll.ok("2420", f"{mdtrt_id}|{person.psn_no}|20000.00")
    settled = await dll.ok("2410", f"{mdtrt_id}|{person.psn_no}|20000.00")
    assert trial[1:-1] == settled[1:-1] and settled[0]
    figures = dict(zip(["medfee", "fulamt", "preselfpay", "inscp", "deductible", "basic", "critical", "tehuibao",
                        "assistance", "reduction", "backstop", "fund_sum", "hosp_part", "personal"], settled[1:15],
                       strict=True))
    assert figures == {"medfee": "20000.00", "fulamt": "1500.00", "preselfpay": "400.00", "inscp": "18100.00",
                       "deductible": "250.00", "basic": "15172.50", "critical": "0.00", "tehuibao": "1463.75",
                       "assistance": "1171.00", "reduction": "0.00", "backstop": "192.75", "fund_sum": "18000.00",
                       "hosp_part": "0.00", "personal": "2000.00"}
    reversal = await dll.ok("2430", f"{mdtrt_id}|{person.psn_no}|{settled[0]}")
    assert reversal[1] == settled[0] and reversal[2] == "-20000.00"


@pytest.mark.parametrize(("raw", "words"), [
    ("2410^T2^001^C^M1^430521^x|y^1^".encode("gbk")[:-3], "段"),  # too few ^ fields
    ("9999^T2^001^C^M1^430521^^1^".encode("gbk"), "业务编号"),
    (b"2210^T2^001^C^M1^430521^\xff\xfe^1^", "gbk"),
    ("2210^T2^001^C^M1^430521^TP0001|2026-03-01^1^".encode("gbk"), "%Y%m%d%H%M%S"),
    ("2410^T2^001^C^M1^430521^NOSUCH|TP0001|1.00^1^".encode("gbk"), "HG2004"),
    ("2310^T2^001^C^M1^430521^F1|X|TP0001|A|||1|abc|1.00|20260302100000^1^".encode("gbk"), "HG1003"),
])
async def test_bad_input_gets_the_dialects_business_error(served: Served, raw: bytes, words: str) -> None:
    rc, out = await call_dialect(served.gateway, NEUSOFT, raw)
    assert rc == "-2"
    text = out.decode("gbk")
    assert words in text and text.startswith("HG")


def test_shipped_mappings_compile() -> None:
    dialects, errors = check_all(MAPPINGS)
    assert not errors
    assert "neusoft-dll" in dialects


def test_mappings_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mappings", "check", str(MAPPINGS)]) == 0
    out = capsys.readouterr().out
    # the files' own trade tables are the oracle: a trade added to a mapping changes the count the command says
    for name in ("neusoft-dll", "yunnan-dll"):
        trades = yaml.safe_load((MAPPINGS / f"{name}.yaml").read_text(encoding="utf-8"))["trades"]
        assert f"ok: {name} (dll, gbk, {len(trades)} trades)" in out
    (tmp_path / "good.yaml").write_text((MAPPINGS / "neusoft-dll.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "bad.yaml").write_text("dialect: x\ntransport: fax\n", encoding="utf-8")
    assert main(["mappings", "check", str(tmp_path)]) == 1
    assert f"{tmp_path / 'bad.yaml'}:1:" in capsys.readouterr().err


@pytest.mark.parametrize(("change", "line_of", "words"), [
    (('infno: "2304"', 'infno: "2999"'), 'infno: "2999"', "not a national transaction"),
    (("table: gender}", "table: sex}"), "table: sex}", "no table named 'sex'"),
    (("format: amount, optional: true}", "format: money, optional: true}"), "format: money", "format 'money'"),
    (("encoding: gbk", "encoding: gbk2"), "encoding: gbk2", "unknown encoding"),
    (("    name: 签到\n", "    name: 签到\n    infnp: x\n"), "infnp: x", "unknown key 'infnp'"),
    (("context: {msgid: msgid,", "context: {msgid: serial_no,"), "context: {msgid: serial_no,", "msgid"),
    (("answer_envelope: [serial,", "answer_envelope: [serial, echo.nothing,"), "answer_envelope", "echo.nothing"),
    (('framing: {kind: delimited, field: "^"', 'framing: {kind: delimited, field: "^"]'), "framing:", "YAML"),
])
def test_a_mistake_is_refused_with_file_and_line(tmp_path: Path, change: tuple[str, str], line_of: str,
                                                  words: str) -> None:
    text = (MAPPINGS / "neusoft-dll.yaml").read_text(encoding="utf-8")
    assert change[0] in text
    broken = text.replace(change[0], change[1], 1)
    path = tmp_path / "neusoft-dll.yaml"
    path.write_text(broken, encoding="utf-8")
    expected_line = next(n for n, line in enumerate(broken.splitlines(), 1) if line_of in line)
    with pytest.raises(MappingError) as caught:
        compile_mapping(path)
    assert caught.value.line == expected_line, str(caught.value)
    assert words in caught.value.problem
    assert str(path) in str(caught.value)
