"""How the journal keeps bodies that carry personal data (setting `journal.raw`).

- mask (default): ID numbers and names masked as in the logs (gateway/log.py), the rest kept as received;
- clear: the bytes exactly as received and answered (a county that keeps the journal under its own protection);
- encrypt: the exact bytes under AES-256-GCM with the key in `journal.key_file` (32 bytes, base64); only a
  holder of the key reads them back (`hisgw journal --raw`).

Search keys (psn_no, mdtrt_id, setl_id) stay in clear in every mode: they name records, not people.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from gateway.log import mask_id_numbers, mask_names, mask_names_utf8

MODES = ("mask", "clear", "encrypt")
_SEALED = b"hisgw-aesgcm-1:"  # marks an encrypted body; a nonce of 12 bytes and the ciphertext follow
_NONCE = 12


class JournalKeyError(ValueError):
    """The encrypt mode cannot work: no key file, a bad key, or the cryptography package missing."""


class _Cipher(Protocol):
    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...
    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...


class Protection:
    def __init__(self, mode: str = "mask", key: bytes | None = None) -> None:
        if mode not in MODES:
            raise JournalKeyError(f"journal.raw = {mode!r}: one of {', '.join(MODES)}")
        self.mode = mode
        self._cipher: _Cipher | None = _cipher(key) if key is not None else None
        if mode == "encrypt" and self._cipher is None:
            raise JournalKeyError("journal.raw = 'encrypt' needs journal.key_file")

    @property
    def wants_names(self) -> bool:
        """Whether sealing needs the names of the people an exchange is about (only masking does)."""
        return self.mode == "mask"

    def seal(self, data: bytes, encoding: str, names: Iterable[str] = ()) -> bytes:
        if self.mode == "clear" or not data:
            return data
        if self.mode == "mask":
            masked = mask_id_numbers(data)
            if not names and b"name" not in masked:  # nothing else to look for
                return masked
            if encoding.replace("-", "").lower() == "utf8":
                return mask_names_utf8(masked, names)
            return mask_names(masked.decode(encoding, errors="replace"), names).encode(encoding, errors="replace")
        assert self._cipher is not None
        nonce = os.urandom(_NONCE)
        return _SEALED + nonce + self._cipher.encrypt(nonce, data, None)

    def open(self, data: bytes) -> bytes | None:
        """The body as kept (masked or clear), decrypted when sealed; None when sealed and we hold no key."""
        if not data.startswith(_SEALED):
            return data
        if self._cipher is None:
            return None
        body = data[len(_SEALED):]
        return self._cipher.decrypt(body[:_NONCE], body[_NONCE:], None)


def read_key(path: Path) -> bytes:
    try:
        key = base64.b64decode(path.read_text(encoding="ascii").strip(), validate=True)
    except (OSError, UnicodeDecodeError, binascii.Error) as exc:
        raise JournalKeyError(f"{path}: cannot read a base64 key ({exc})") from exc
    if len(key) != 32:
        raise JournalKeyError(f"{path}: the key should be 32 bytes (base64 of 32 random bytes), not {len(key)}")
    return key


def new_key() -> str:
    """A fresh key, base64, for `hisgw journal key`."""
    return base64.b64encode(os.urandom(32)).decode("ascii")


def load_protection(mode: str, key_file: Path | None) -> Protection:
    return Protection(mode, read_key(key_file) if key_file is not None else None)


def _cipher(key: bytes) -> _Cipher:
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError as exc:  # only the encrypt mode needs it
        raise JournalKeyError("journal.raw = 'encrypt' needs the cryptography package") from exc
    cipher: _Cipher = AESGCM(key)
    return cipher
