"""Writing results: whole files or nothing, never over an input."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd


class OutputError(ValueError):
    """An output that must not be written (it would replace an input)."""


class OutputWriteError(OSError):
    """An output that could not be written (a folder that is a file, no
    permission, a full or read-only disk); nothing was left behind."""


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


def _reason(target: Path, error: OSError) -> str:
    for folder in target.parents:
        if folder.exists():
            return error.strerror if folder.is_dir() else f"{folder} is a file, not a folder"
    return error.strerror


def write_bytes(path: str | os.PathLike, payload: bytes, inputs: Iterable = ()) -> Path:
    """Write to a temporary file beside `path`, then rename it into place."""
    return write_files([(path, payload)], inputs)[0]


def write_files(items: list[tuple], inputs: Iterable = ()) -> list[Path]:
    """Write every (path, payload) to a temporary file beside it, then rename
    them all into place: an error or an interrupt (Ctrl-C, or SIGTERM as the
    command line turns it into one) before the renames leaves none of them,
    and never a partial file."""
    inputs = list(inputs)
    targets = [guard(path, inputs) for path, _ in items]
    temporaries: list[str] = []
    try:
        for target, (_, payload) in zip(targets, items):
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            except OSError as error:
                raise OutputWriteError(error.errno, f"cannot write {target}: {_reason(target, error)}") from None
            temporaries.append(temporary)
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(payload)
                os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; a report is for sharing
            except OSError as error:
                raise OutputWriteError(error.errno, f"cannot write {target}: {error.strerror}") from None
        for index, (temporary, target) in enumerate(zip(temporaries, targets)):
            try:
                os.replace(temporary, target)
            except OSError as error:
                raise OutputWriteError(error.errno, f"cannot write {target}: {error.strerror}") from None
            temporaries[index] = ""
    finally:
        for temporary in temporaries:
            if temporary and os.path.exists(temporary):
                os.unlink(temporary)
    return targets


def write_text(path: str | os.PathLike, text: str, inputs: Iterable = ()) -> Path:
    return write_bytes(path, text.encode("utf-8"), inputs)


def write_tables(directory: str | os.PathLike, tables: Mapping[str, pd.DataFrame], inputs: Iterable = ()) -> list[Path]:
    """One CSV per table, all written whole, then renamed into place together."""
    items = []
    for name, table in tables.items():
        frame = table.to_frame() if isinstance(table, pd.Series) else table
        text = frame.to_csv(index=isinstance(table, pd.Series), lineterminator="\n")
        items.append((Path(directory) / f"{name}.csv", text.encode("utf-8")))
    return write_files(items, inputs)
