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
    if ric.calc_check_digit(certno[:17]) != certno[17]:
        raise InvalidIdNumber("校验位错误", field="certno")
    return IdNumberInfo(certno=certno, birth_date=born, gend="1" if int(certno[16]) % 2 else "2",
                        area_code=certno[:6])


def mask_certno(certno: str) -> str:
    """430521********123X: the area and the last four stay, enough to tell two people apart in a log."""
    if len(certno) <= 10:
        return "*" * len(certno)
    return certno[:6] + "*" * (len(certno) - 10) + certno[-4:]


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***."""
    return name[:1] + "*" * (len(name) - 1) if name else name
