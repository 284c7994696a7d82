"""Resident ID numbers (GB 11643): checked with python-stdnum, masked for logs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from gateway.errors import InvalidIdNumber


@dataclass(frozen=True, slots=True)
class IdNumberInfo:
    certno: str  # normalised: upper-case X
    birth_date: date
    gend: str  # "1" male (odd sequence), "2" female
    area_code: str  # information only: the code in force when the number was issued


def check_certno(raw: str) -> IdNumberInfo:
    """Check length, digits, birth date and check character. The area is not checked: an area code created
    after the holder's birth (邵东县 430521 for someone born in 1961) is real and must be accepted."""
    certno = raw.strip().upper()
    if len(certno) != 18:
        raise InvalidIdNumber(f"长度应为18位，实为{len(certno)}位", field="certno")
    if not (certno.isascii() and certno[:17].isdigit() and (certno[17].isdigit() or certno[17] == "X")):
        raise InvalidIdNumber("前17位应为数字，末位为数字或X", field="certno")
    try:
        born = ric.get_birth_date(certno)
    except ValidationError as exc:
        raise InvalidIdNumber(f"出生日期 {certno[6:14]} 不存在", field="certno") from exc
    # calc_check_digit takes the whole 18-character number and computes over all but its last character
    if ric.calc_check_digit(certno) != certno[17]:
        raise InvalidIdNumber("校验位错误", field="certno")
    return IdNumberInfo(certno=certno, birth_date=born, gend="1" if int(certno[16]) % 2 else "2",
                        area_code=certno[:6])


def check_character(body: str) -> str:
    """The check character (ISO 7064 MOD 11-2) completing the first 17 digits of an ID number, for whoever makes
    numbers (tests, the simulator). calc_check_digit ignores the last character of what it is given."""
    if len(body) != 17 or not body.isdigit():
        raise ValueError(f"an ID number's body is 17 digits, not {body!r}")
    return str(ric.calc_check_digit(body + "?"))


def mask_certno(certno: str) -> str:
    """430521********013X: the area and the last four stay, enough to tell two people apart in a log."""
    if len(certno) <= 10:
        return "*" * len(certno)
    return certno[:6] + "*" * (len(certno) - 10) + certno[-4:]


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***."""
    return name[:1] + "*" * (len(name) - 1) if name else name
