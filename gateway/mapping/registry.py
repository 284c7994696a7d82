"""All dialects of a mappings folder, compiled at start; a bad file is reported with file and line."""

from __future__ import annotations

from pathlib import Path

from gateway.mapping.compile import MappingError, compile_mapping
from gateway.mapping.model import Dialect

SUFFIXES = (".yaml", ".yml")


def mapping_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES) if folder.is_dir() else []


def check_all(folder: Path) -> tuple[dict[str, Dialect], list[MappingError]]:
    """Every file compiled: (dialects by name, the errors of the files that failed)."""
    dialects: dict[str, Dialect] = {}
    errors: list[MappingError] = []
    for path in mapping_files(folder):
        try:
            dialect = compile_mapping(path)
        except MappingError as exc:
            errors.append(exc)
            continue
        if dialect.name in dialects:
            errors.append(MappingError(path, 1, f"dialect {dialect.name!r} is also defined in "
                                                f"{dialects[dialect.name].source}"))
            continue
        dialects[dialect.name] = dialect
    return dialects, errors


class DialectBook:
    """The dialects in service. A reload compiles the whole folder first and swaps it in only if every file
    is good; calls already running keep the (immutable) dialect they started with, so none is dropped."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.current: dict[str, Dialect] = {}
        self._seen = self._fingerprint()

    def reload(self) -> list[MappingError]:
        """[] when the new set is in service; else the errors, and the previous set keeps serving."""
        seen = self._fingerprint()
        dialects, errors = check_all(self.folder)
        if not dialects and not errors and self.current:  # the folder emptied (or moved) under a running gateway
            errors = [MappingError(self.folder, 1, "no mapping files left: the dialects in service are kept")]
        if not errors:
            self.current = dialects
        self._seen = seen
        return errors

    def changed(self) -> bool:
        return self._fingerprint() != self._seen

    def _fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in mapping_files(self.folder))
