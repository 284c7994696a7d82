"""The embedded DLL through ctypes, as a HIS calls its vendor's DLL: INIT once, then BUSINESS_HANDLE per trade.

    make dll && python3 examples/dll/journey.py [DIALECT [LIBRARY]]     # against `make serve`

DIALECT is neusoft-dll (default) or yunnan-dll. The library reads HISGW_DLL_CONFIG (default:
examples/dll/<DIALECT>.ini, the gateway's DLL port 8081, the dialect's name). The inputs are <DIALECT>.txt, one
a line, GBK-encoded, with the placeholders of examples/lib.sh filled: @RUN@, @CERTNO@ (D0001's ID number from the
demo data), @MDTRT_ID@ (from the admission's answer), @SETL_ID@ (from the settlement's) and @NL@ (the newline
between rows of one input).
"""

from __future__ import annotations

import csv
import ctypes
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).absolute().parent  # not resolve(): a linked checkout builds its own build/
ROOT = HERE.parent.parent
OUT_SIZE = 8192  # = out_size in the .ini: the library never writes past it


def neusoft_first(answer: str) -> str:  # 中心交易流水号^业务周期号^输出参数^: the output's first column
    return answer.split("^")[2].split("|")[0]


# Per dialect, the trade whose answer carries what later inputs need, and where in the answer it is.
CAPTURES: dict[str, dict[str, tuple[str, Callable[[str], str]]]] = {
    "neusoft-dll": {"2210": ("@MDTRT_ID@", neusoft_first), "2410": ("@SETL_ID@", neusoft_first)},
    "yunnan-dll": {"21": ("@MDTRT_ID@", lambda answer: answer.split("|")[1]),
                   "42": ("@SETL_ID@", lambda answer: answer.split("|")[-1])},
}


def demo_certno(psn_no: str) -> str:
    with (ROOT / "gateway" / "data" / "demo" / "persons.csv").open(encoding="utf-8") as rows:
        return next(row["certno"] for row in csv.DictReader(rows) if row["psn_no"] == psn_no)


def main() -> int:
    dialect = sys.argv[1] if len(sys.argv) > 1 else "neusoft-dll"
    library_path = sys.argv[2] if len(sys.argv) > 2 else str(ROOT / "build" / "libhisgw_dll.so")
    os.environ.setdefault("HISGW_DLL_CONFIG", str(HERE / f"{dialect}.ini"))
    library = ctypes.CDLL(library_path)
    error = ctypes.create_string_buffer(256)
    if library.INIT(error) != 0:
        print("INIT:", error.value.decode("gbk"))
        return 1
    values = {"@RUN@": time.strftime("%Y%m%d%H%M%S"), "@CERTNO@": demo_certno("D0001"), "@MDTRT_ID@": "",
              "@SETL_ID@": "", "@NL@": "\n"}
    worst = 0
    for line in (HERE / f"{dialect}.txt").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        for placeholder, value in values.items():
            line = line.replace(placeholder, value)
        out = ctypes.create_string_buffer(OUT_SIZE)
        rc = library.BUSINESS_HANDLE(line.encode("gbk"), out)
        answer = out.value.decode("gbk")
        trade = re.split(r"[\^|]", line)[0]
        print(f"\n== {trade} rc={rc}\n{answer}")
        worst = min(worst, rc)
        if rc == 0 and trade in CAPTURES[dialect]:
            placeholder, where = CAPTURES[dialect][trade]
            values[placeholder] = where(answer)
    return 0 if worst == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
