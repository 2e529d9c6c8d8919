"""Reading untrusted workbooks within bounds (SPEC section 2).

An .xlsx is a zip of XML parts. Deflate packs a run of repeated bytes about
a thousandfold, so a 1 MB workbook can unpack to a gigabyte, and a sheet of
a few bytes can declare (or reach with two cells, A1 and XFD1048576) an
extent of 17 billion cells, which openpyxl fills in with empty cells as it
reads. :func:`check_workbook` refuses such a workbook before openpyxl
parses any of it:

- the parts' declared sizes (the zip's central directory) may not pass
  :data:`MAX_UNZIPPED_BYTES` in all;
- every part is then unpacked as a bounded stream, counted as it comes, so
  a header that lies about its size cannot take more than the budget (and a
  part that does not match its header is refused);
- each worksheet is scanned as it streams: its declared `<dimension>` and
  the extent its rows and cells reach (last row x last column, what a reader
  fills in) may not pass :data:`MAX_CELLS` over all sheets.

Each refusal is a :class:`Refused` naming the part (and the sheet).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path

#: A workbook whose parts unpack past this many bytes, in all, is refused.
MAX_UNZIPPED_BYTES = 100 * 2**20
#: ... and so is one whose sheets declare or reach more cells than this, in all.
MAX_CELLS = 1_000_000
CHUNK_BYTES = 2**20
#: An XML tag longer than this is kept across chunks no further (a worksheet's
#: tags are short; a longer one is not a row, cell or dimension we count).
MAX_TAG_BYTES = 64 * 2**10

_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c|dimension)(?=[\s/>])([^<>]*)>")
_R = re.compile(rb"""(?:^|\s)r\s*=\s*["']\$?([A-Za-z]{0,3})\$?([0-9]{0,7})["']""")
_REF = re.compile(rb"""(?:^|\s)ref\s*=\s*["']([^"']*)["']""")
_CELL = re.compile(r"\$?([A-Za-z]{1,3})?\$?([0-9]{1,7})?$")
_SHEET = re.compile(rb"<(?:\w+:)?sheet\s([^>]*)>")
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\s([^>]*)>")
_ATTRIBUTE = re.compile(rb"""([\w:.-]+)\s*=\s*["']([^"']*)["']""")


class Refused(ValueError):
    """A workbook refused for its size or shape; `message` says which part and limit."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _column_number(letters: bytes | str) -> int:
    number = 0
    for letter in letters.upper() if isinstance(letters, str) else letters.decode().upper():
        number = number * 26 + ord(letter) - 64
    return number


def _column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _Extent:
    """The extent a worksheet reaches, fed its XML a chunk at a time: the
    last row and column of its cells (a row or cell without `r` follows the
    one before, as readers number them) and its declared dimension."""

    def __init__(self):
        self.rows = self.columns = 0  # the extent its rows and cells reach
        self.declared: tuple[int, int, str] | None = None  # rows, columns, the ref as written
        self.cells = 0
        self._row = 0
        self._column = 0
        self._tail = b""

    def feed(self, data: bytes) -> None:
        data = self._tail + data
        end = data.rfind(b"<")
        if end == -1 or b">" in data[end:]:  # the last tag is whole
            end = len(data)
        self._tail = data[end:] if len(data) - end <= MAX_TAG_BYTES else b""
        for match in _TAG.finditer(data, 0, end):
            name, attributes = match.group(1), match.group(2)
            if name == b"c":
                reference = _R.search(attributes)
                if reference and reference.group(1):
                    self._column = _column_number(reference.group(1))
                else:
                    self._column += 1
                if reference and reference.group(2):
                    self._row = max(self._row, int(reference.group(2)))
                self.cells += 1
                self.columns = max(self.columns, self._column)
                self.rows = max(self.rows, self._row)
            elif name == b"row":
                reference = _R.search(attributes)
                self._row = int(reference.group(2)) if reference and reference.group(2) else self._row + 1
                self._column = 0
                self.rows = max(self.rows, self._row)
            else:
                declared = _REF.search(attributes)
                if declared:
                    self._declare(declared.group(1).decode("ascii", "replace"))

    def _declare(self, ref: str) -> None:
        last = ref.split(":")[-1]
        match = _CELL.match(last)
        if not match:
            return
        columns = _column_number(match.group(1)) if match.group(1) else 16384
        rows = int(match.group(2)) if match.group(2) else 1048576
        self.declared = (rows, columns, ref)

    @property
    def size(self) -> int:
        """The cells a reader goes through: the larger of the extent declared and the one reached."""
        reached = self.rows * self.columns
        return max(reached, self.declared[0] * self.declared[1] if self.declared else 0)


def _attributes(text: bytes) -> dict[str, str]:
    return {k.decode("ascii", "replace").split(":")[-1]: v.decode("utf-8", "replace") for k, v in _ATTRIBUTE.findall(text)}


def _sheet_names(archive: zipfile.ZipFile, parts: set[str]) -> dict[str, str]:
    """Worksheet part -> sheet name, from the workbook's relationships (a
    workbook may keep its sheets anywhere; openpyxl follows these)."""
    sheets: dict[str, str] = {}
    for rels in (name for name in parts if name.endswith(".rels") and "/_rels/" in f"/{name}"):
        folder, _, base = rels.rpartition("_rels/")
        source = folder + base[: -len(".rels")]
        targets = {}
        for match in _RELATIONSHIP.finditer(_small(archive, rels)):
            item = _attributes(match.group(1))
            if item.get("Type", "").endswith("/worksheet") and "Target" in item:
                target = item["Target"]
                target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
                targets[item.get("Id")] = target
        if not targets:
            continue
        names = {}
        if source in parts:
            for match in _SHEET.finditer(_small(archive, source)):
                item = _attributes(match.group(1))
                names[item.get("id")] = item.get("name")
        for key, target in targets.items():
            sheets[target] = names.get(key) or target
    return sheets


def _small(archive: zipfile.ZipFile, name: str, limit: int = 4 * 2**20) -> bytes:
    """A part that should be small (relationships, the workbook's sheet list),
    read no further than `limit` bytes."""
    with archive.open(name) as part:
        return part.read(limit)


def check_workbook(path: str | Path, max_bytes: int = MAX_UNZIPPED_BYTES, max_cells: int = MAX_CELLS) -> None:
    """Refuse (:class:`Refused`) a workbook that unpacks past `max_bytes` or
    whose sheets declare or reach more than `max_cells` cells, before it is
    parsed. Raises ``zipfile.BadZipFile`` or ``OSError`` for a file that is
    not a zip at all."""
    with zipfile.ZipFile(path) as archive:
        items = archive.infolist()
        declared = sum(item.file_size for item in items)
        if declared > max_bytes:
            biggest = max(items, key=lambda item: item.file_size)
            raise Refused(
                f"the workbook's parts declare {declared / 2**20:,.0f} MB unpacked (the largest, {biggest.filename}, "
                f"{biggest.file_size / 2**20:,.0f} MB from {biggest.compress_size / 2**10:,.0f} KB packed); more than "
                f"{max_bytes >> 20} MB is refused before it is read"
            )
        parts = {item.filename for item in items}
        sheets = _sheet_names(archive, parts)
        unpacked = cells = 0
        for item in items:
            sheet = sheets.get(item.filename)
            if sheet is None and re.search(r"(^|/)worksheets/[^/]+\.xml$", item.filename):
                sheet = item.filename
            extent = _Extent() if sheet is not None else None
            try:
                with archive.open(item) as part:
                    while chunk := part.read(CHUNK_BYTES):
                        unpacked += len(chunk)
                        if unpacked > max_bytes:
                            raise Refused(
                                f"the part {item.filename} unpacks past what its header declares "
                                f"({item.file_size:,} bytes) and the workbook past {max_bytes >> 20} MB; refused"
                            )
                        if extent is not None:
                            extent.feed(chunk)
                            if cells + extent.size > max_cells:
                                raise Refused(_too_many_cells(sheet, item.filename, extent, cells, max_cells))
            except zipfile.BadZipFile as error:  # a CRC or size that does not match its header
                raise Refused(f"the part {item.filename} does not match its header ({error}); refused") from None
            if extent is not None:
                cells += extent.size


def _too_many_cells(sheet: str, part: str, extent: _Extent, before: int, limit: int) -> str:
    where = f"sheet {sheet!r} ({part})" if sheet != part else f"the sheet {part}"
    if extent.declared and extent.declared[0] * extent.declared[1] >= extent.rows * extent.columns:
        rows, columns, ref = extent.declared
        what = f"declares the range {ref}: {rows * columns:,} cells"
    else:
        what = (
            f"holds cells as far as {_column_letters(extent.columns)}{extent.rows} "
            f"({extent.cells:,} written, {extent.rows * extent.columns:,} cells to read)"
        )
    others = f" beside {before:,} in the sheets before it" if before else ""
    return f"{where} {what}{others}; more than {limit:,} cells in all is refused before the workbook is read"
