"""HL7 v2 over MLLP, with nothing but the standard library: the message files of this folder in order.

    python3 examples/hl7v2/journey.py [HOST [PORT]]      # against `make serve`: 127.0.0.1 2575
                                                         # (or $HISGW_HL7_PORT)

Each file is one message, a segment a line (sent with \\r between segments, framed 0x0B … 0x1C 0x0D), with the
placeholders of examples/lib.sh filled: @RUN@ (new msgids each run), @CERTNO@ (D0001's ID number, read from the
demo data), @MDTRT_ID@ (PV1-50 of the ADT^A01 ACK) and @SETL_ID@ (ZSA-1 of the settlement's ACK).
"""

from __future__ import annotations

import csv
import os
import socket
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEMO_PERSONS = HERE.parent.parent / "gateway" / "data" / "demo" / "persons.csv"


def demo_certno(psn_no: str) -> str:
    with DEMO_PERSONS.open(encoding="utf-8") as rows:
        return next(row["certno"] for row in csv.DictReader(rows) if row["psn_no"] == psn_no)


def exchange(sock: socket.socket, message: str) -> str:
    sock.sendall(b"\x0b" + message.encode("utf-8") + b"\x1c\x0d")
    answer = b""
    while not answer.endswith(b"\x1c\x0d"):
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the gateway closed the connection")
        answer += chunk
    return answer.strip(b"\x0b\x1c\x0d").decode("utf-8")


def field(ack: str, segment: str, number: int) -> str:
    for line in ack.split("\r"):
        fields = line.split("|")
        if fields[0] == segment and len(fields) > number:
            return fields[number]
    return ""


def main() -> int:
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else int(os.environ.get("HISGW_HL7_PORT", "2575"))
    values = {"@RUN@": time.strftime("%Y%m%d%H%M%S"), "@CERTNO@": demo_certno("D0001"),
              "@MDTRT_ID@": "", "@SETL_ID@": ""}
    with socket.create_connection((host, port), timeout=30) as sock:
        for path in sorted(HERE.glob("*.hl7")):
            message = path.read_text(encoding="utf-8")
            for placeholder, value in values.items():
                message = message.replace(placeholder, value)
            ack = exchange(sock, "\r".join(message.splitlines()) + "\r")
            print(f"\n== {path.name}\n" + ack.replace("\r", "\n"))
            values["@MDTRT_ID@"] = values["@MDTRT_ID@"] or field(ack, "PV1", 50)
            values["@SETL_ID@"] = values["@SETL_ID@"] or field(ack, "ZSA", 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
