"""Writing results: whole files or nothing, never over an input."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd


class OutputError(ValueError):
    """An output that must not be written (it would replace an input)."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def guard(path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    target = Path(path).resolve()
    for item in inputs:
        if item is not None and Path(item).resolve() == target:
            raise OutputError(f"refusing to write {path}: it is an input file")
    return target


def write_bytes(path: str | os.PathLike, payload: bytes, inputs: Iterable = ()) -> Path:
    """Write to a temporary file beside `path`, then rename it into place."""
    target = guard(path, inputs)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; a report is for sharing
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return target


def write_text(path: str | os.PathLike, text: str, inputs: Iterable = ()) -> Path:
    return write_bytes(path, text.encode("utf-8"), inputs)


def write_tables(directory: str | os.PathLike, tables: Mapping[str, pd.DataFrame], inputs: Iterable = ()) -> list[Path]:
    """One CSV per table, each written whole."""
    inputs = list(inputs)
    written = []
    for name, table in tables.items():
        frame = table.to_frame() if isinstance(table, pd.Series) else table
        written.append(write_text(Path(directory) / f"{name}.csv", frame.to_csv(index=isinstance(table, pd.Series)), inputs))
    return written
