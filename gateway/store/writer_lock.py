"""The running gateway is its database's single writer (gateway/runtime.py's store thread): `hisgw serve` holds
an exclusive flock(2) on the file while it runs, and every command that writes takes the same lock for its run.
So a writing command refuses while a gateway serves that file, and a gateway refuses to start while one writes.

flock, not a lock file: it never meets SQLite's own fcntl locks (Linux keeps the two apart), and the kernel drops
it when the holder ends, kill -9 included, so nothing stale is left to clean."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from gateway.store.base import StoreUnavailable


class WriterLock:
    """Held from construction until release(); StoreUnavailable, in one line, when another process holds it."""

    def __init__(self, path: Path) -> None:
        self._fd: int | None = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.release()
            raise StoreUnavailable(f"{path}: another hisgw process writes this database (a running gateway, or a "
                                   "command such as an import): stop it first, or do this through the gateway's "
                                   "API") from None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor drops the lock
            self._fd = None
