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
