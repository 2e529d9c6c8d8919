"""The two holes of issue 10, closed (SPEC section 2): documents that expand
past a million nodes, and CSV tables outside the instance's folder; and
workbooks that unpack past 100 MB or whose sheets reach past a million cells."""

import io
import os
import struct
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

import ree_opt
from ree_opt import bounded_yaml, bounded_zip
from ree_opt.cli import main

INSTANCE = """\
periods: [2026]
products: {ox: {shortfall_penalty: 100}}
facilities: FACILITIES
demand: [{segment: s, product: ox, quantity: 150}]
"""
TABLE = "id,country,stage,outputs,capacity,cost\nau,AU,separation,{ox: 1.0},1000,70\n"


def billion_laughs(width=9, depth=9) -> str:
    """The classic: `depth` levels of `width` aliases each, width**depth leaves."""
    lines = ["periods: [2026]", "sources:", '  - &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, depth):
        lines.append(f"  - &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def problems(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_billion_laughs_is_refused_at_the_line_that_passes_a_million(tmp_path, capsys):
    path = tmp_path / "laughs.yaml"
    path.write_text(billion_laughs())
    assert len(path.read_bytes()) < 1024
    code, err = problems(capsys, ["validate", str(path)])
    assert code == 2
    # &lk (line k + 3) expands to 1 + 9 x &l(k-1) nodes: 10, 91, 820, 7381, 66430,
    # 597871 (&l5), 5380840 (&l6, line 9: the one that passes the million)
    assert f"{path}:9: the document expands past 1,000,000 nodes" in err


def test_billion_laughs_is_refused_by_a_fresh_process_without_hanging(tmp_path):
    path = tmp_path / "laughs.yaml"
    path.write_text(billion_laughs(width=10, depth=12))  # 10**12 nodes expanded
    done = subprocess.run(
        [sys.executable, "-m", "ree_opt", "validate", str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert "expands past 1,000,000 nodes" in done.stderr and "Traceback" not in done.stderr


def test_aliases_below_the_budget_are_read_and_counted_as_expanded():
    data, lines = bounded_yaml.load_yaml(billion_laughs(width=3, depth=4))
    assert data["sources"][3][2][1][0] == ["lol"] * 9
    assert lines[("sources", 3)] == 6
    # expanded: the top mapping, 2 keys, [2026] (2 nodes), the sources list, then
    # &l0 (10 nodes) and each level 1 + 3 x the one below: 31, 94, 283
    expanded = 1 + 2 + 2 + 1 + 10 + 31 + 94 + 283
    with pytest.raises(bounded_yaml.TooLarge):
        bounded_yaml.load_yaml(billion_laughs(width=3, depth=4), budget=expanded - 1)
    bounded_yaml.load_yaml(billion_laughs(width=3, depth=4), budget=expanded)


def test_a_recursive_alias_and_deep_nesting_are_refused_with_their_line(tmp_path, capsys):
    path = tmp_path / "loop.yaml"
    path.write_text("periods: [2026]\nsources: &a [1, *a]\n")
    code, err = problems(capsys, ["validate", str(path)])
    assert code == 2 and f"{path}:2: the alias *a refers to a node that contains it" in err
    path = tmp_path / "deep.yaml"
    path.write_text("periods: [2026]\n\nsources: " + "[" * 5000 + "]" * 5000 + "\n")
    code, err = problems(capsys, ["validate", str(path)])
    # libyaml stops at 1,000 levels itself; PyYAML's own parser at our 100
    assert code == 2 and f"{path}:3: " in err and "nest" in err
    path.write_text("periods: [2026]\n\nsources: " + "[" * 101 + "]" * 101 + "\n")
    code, err = problems(capsys, ["validate", str(path)])
    assert code == 2 and f"{path}:3: the document is nested deeper than 100 levels" in err
    path = tmp_path / "deep.json"
    path.write_text('{"sources": ' + "[" * 100_000 + "]" * 100_000 + "}")
    code, err = problems(capsys, ["validate", str(path)])
    assert code == 2 and f"{path}: the document is nested deeper than 100 levels" in err


def test_values_python_cannot_build_are_located(tmp_path, capsys):
    path = tmp_path / "odd.yaml"
    path.write_text("periods: [2026]\nproducts:\n  ox: {shortfall_penalty: " + "9" * 5000 + "}\n")
    code, err = problems(capsys, ["validate", str(path)])
    assert code == 2 and f"{path}:3: not valid YAML: cannot read the value '9999" in err
    path.write_text("periods: [2026-13-45]\n")
    code, err = problems(capsys, ["validate", str(path)])
    assert code == 2 and f"{path}:1: not valid YAML: cannot read the value '2026-13-45': month must be in 1..12" in err


def test_a_file_past_the_size_limit_is_refused_before_it_is_read(tmp_path, capsys):
    path = tmp_path / "big.yaml"
    with open(path, "w") as stream:
        stream.write("periods: [2026]\nnotes: '")
        stream.write("x" * (50 * 2**20))
        stream.write("'\n")
    code, err = problems(capsys, ["validate", str(path)])
    assert code == 2 and f"{path}: the file is 50.0 MB; an instance file or table may be at most 16 MB" in err


def write_instance(folder: Path, facilities: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "instance.yaml"
    path.write_text(INSTANCE.replace("FACILITIES", facilities))
    return path


def test_a_table_in_the_folder_or_below_is_read(tmp_path):
    (tmp_path / "plan" / "tables").mkdir(parents=True)
    (tmp_path / "plan" / "tables" / "f.csv").write_text(TABLE)
    path = write_instance(tmp_path / "plan", "tables/f.csv")
    assert ree_opt.load_instance(path).facilities[0].capacity == 1000
    # a symlink in the folder to a table in the folder is fine
    os.symlink(tmp_path / "plan" / "tables" / "f.csv", tmp_path / "plan" / "link.csv")
    path = write_instance(tmp_path / "plan", "link.csv")
    assert ree_opt.load_instance(path).facilities[0].id == "au"


SECRET = "id,country,stage,outputs,capacity,cost\nTOP-SECRET-CELL,XX,separation,{ox: 1.0},-5,0\n"


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink", "symlinked_folder"])
def test_a_table_outside_the_folder_is_refused_without_reading_it(tmp_path, capsys, kind):
    outside = tmp_path / "elsewhere" / "secret.csv"
    outside.parent.mkdir()
    outside.write_text(SECRET)
    folder = tmp_path / "plan" / "sub"
    folder.mkdir(parents=True)
    if kind == "dotdot":
        name = "../../elsewhere/secret.csv"
    elif kind == "absolute":
        name = str(outside)
    elif kind == "symlink":
        os.symlink(outside, folder / "innocent.csv")
        name = "innocent.csv"
    else:
        os.symlink(outside.parent, folder / "tables")
        name = "tables/secret.csv"
    path = write_instance(folder, name)
    code, err = problems(capsys, ["validate", str(path)])
    assert code == 2
    assert f"{path}:3: facilities: the table {name!r} lies outside the instance's folder" in err
    assert "TOP-SECRET-CELL" not in err and "XX" not in err


def test_a_table_that_is_not_a_regular_file_is_refused(tmp_path, capsys):
    folder = tmp_path / "plan"
    folder.mkdir()
    os.mkfifo(folder / "pipe.csv")  # reading it would wait for a writer for ever
    path = write_instance(folder, "pipe.csv")
    code, err = problems(capsys, ["validate", str(path)])
    assert code == 2 and f"{path}:3: facilities: the table 'pipe.csv' is not a regular file" in err
    path = write_instance(folder, "missing.csv")
    code, err = problems(capsys, ["validate", str(path)])
    assert code == 2 and f"{path}:3: facilities: the table 'missing.csv' does not exist" in err


def test_an_alias_bomb_in_a_csv_cell_is_refused(tmp_path, capsys):
    folder = tmp_path / "plan"
    folder.mkdir()
    levels = ["&l0 [" + ", ".join(["lol"] * 10) + "]"]
    levels += [f"&l{k} [" + ", ".join([f"*l{k - 1}"] * 10) + "]" for k in range(1, 9)]
    (folder / "f.csv").write_text(TABLE + f'x,AU,separation,"[{", ".join(levels)}]",1,1\n')
    path = write_instance(folder, "f.csv")
    code, err = problems(capsys, ["validate", str(path)])
    assert code == 2 and "facilities[1].outputs: the document expands past 1,000,000 nodes" in err


def test_a_dict_instance_naming_a_table_is_refused():
    """A dict has no folder: a table is not looked for in the current directory."""
    data = ree_opt.load_instance(Path(__file__).parent / "instances" / "spec_example.yaml").model_dump(
        by_alias=True, exclude_none=True
    )
    data["facilities"] = "facilities.csv"
    with pytest.raises(ree_opt.InstanceError) as caught:
        ree_opt.load_instance(data)
    assert str(caught.value.problems[0]) == (
        "facilities: names the table 'facilities.csv', but only an instance read from a file may name "
        "a CSV table (it is looked for in the file's folder); give a list here"
    )


def test_control_characters_raw_in_the_file_are_located(tmp_path, capsys):
    path = tmp_path / "ctl.yaml"
    path.write_text(textwrap.dedent("""\
        periods: [2026]
        name: "a\x07b"
        """))
    code, err = problems(capsys, ["validate", str(path)])
    assert code == 2 and f"{path}:2: not valid YAML: the character #x07 is not allowed" in err
    path.write_bytes(b"periods: [2026]\nname: caf\xe9\n")
    code, err = problems(capsys, ["validate", str(path)])
    assert code == 2 and f"{path}:2: not UTF-8 text (byte 0xe9)" in err


def test_a_key_written_twice_is_refused_everywhere_at_once(tmp_path, capsys):
    """YAML readers keep the last of two equal keys silently: a pasted
    `capacity:` would change the plan without a word."""
    path = tmp_path / "twice.yaml"
    path.write_text(textwrap.dedent("""\
        periods: [2026]
        products:
          ox: {shortfall_penalty: 100}
        facilities:
          - {id: au, country: AU, stage: mine, outputs: {ox: 1}, capacity: 10, cost: 5,
             capacity: 1000}
        periods: [2027]
        """))
    code, err = problems(capsys, ["validate", str(path)])
    assert code == 2
    assert err.splitlines()[1:] == [
        f"  - {path}:6: facilities[0].capacity: this key is written twice in the same mapping (first on line 5); "
        "YAML would keep the last one silently: keep one",
        f"  - {path}:7: periods: this key is written twice in the same mapping (first on line 1); "
        "YAML would keep the last one silently: keep one",
    ]


def test_merge_keys_are_read(tmp_path):
    path = tmp_path / "merge.yaml"
    path.write_text(textwrap.dedent("""\
        periods: [2026]
        products:
          ox: {shortfall_penalty: 100}
        facilities:
          - &plant {id: au, country: AU, stage: mine, outputs: {ox: 1}, capacity: 10, cost: 5}
          - {<<: *plant, id: ca, country: CA, cost: 6}
        """))
    instance = ree_opt.load_instance(path)
    assert [(f.id, f.country, f.capacity, f.cost) for f in instance.facilities] == [
        ("au", "AU", 10, 5), ("ca", "CA", 10, 6)
    ]


def test_large_bad_instances_get_short_messages(tmp_path, capsys):
    """Messages name at most 12 of what exists: 5,000 unknown products among
    10,000 must not print 10,000 names 5,000 times (and periods repeated
    20,000 times are counted, not compared pairwise)."""
    import json

    data = {
        "periods": [2026] * 20_000,
        "products": {f"p{i:05d}": {"shortfall_penalty": 1} for i in range(10_000)},
        "facilities": [
            {"id": f"f{i}", "country": "AU", "stage": "mine", "outputs": {"zz": 1}, "capacity": 1, "cost": 1}
            for i in range(5_000)
        ],
    }
    path = tmp_path / "large.json"
    path.write_text(json.dumps(data))
    code, err = problems(capsys, ["validate", str(path)])
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1 + 1 + 5_000
    assert lines[1].endswith("periods: period labels must be unique; repeated: 2026")
    assert lines[2].endswith(
        "facilities[0] (f0).outputs.zz: unknown product 'zz'; products are: "
        + ", ".join(f"p{i:05d}" for i in range(12)) + ", ... (9,988 more)"
    )
    assert len(err) < 2_000_000


# --------------------------------------------------------------------------
# Workbook bombs: an .xlsx is a zip, and deflate packs repeated bytes about a
# thousandfold; a sheet of a few bytes can also reach 17 billion cells.

TOY = Path(__file__).resolve().parent.parent / "instances" / "toy.yaml"
SHEET = "xl/worksheets/sheet1.xml"
HEAD = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def toy_workbook(tmp_path) -> bytes:
    """The toy instance as a valid workbook (ree-opt convert)."""
    path = tmp_path / "toy.xlsx"
    assert main(["convert", str(TOY), str(path)]) == 0
    return path.read_bytes()


def with_part(workbook: bytes, name: str, write) -> bytes:
    """The workbook with part `name` replaced by what `write(stream)` writes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for item in source.infolist():
            if item.filename == name:
                with target.open(name, "w") as stream:  # sizes unknown until written
                    write(stream)
            else:
                target.writestr(item, source.read(item), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


def bomb(workbook: bytes, megabytes: int = 120) -> bytes:
    """The first sheet padded with `megabytes` MB of spaces before its data:
    valid XML, and deflate packs it about a thousandfold."""
    def write(stream):
        stream.write(HEAD)
        block = b" " * 2**20
        for _ in range(megabytes):
            stream.write(block)
        stream.write(b"<sheetData/></worksheet>")

    return with_part(workbook, SHEET, write)


def lie_about_sizes(workbook: bytes, name: str, size: int) -> bytes:
    """The zip with `name`'s uncompressed size set to `size` in both its
    headers (local and central directory): a header that lies."""
    data = bytearray(workbook)
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        item = archive.getinfo(name)
    assert data[item.header_offset:item.header_offset + 4] == b"PK\x03\x04"
    struct.pack_into("<I", data, item.header_offset + 22, size)
    entry = data.rfind(b"PK\x01\x02", 0, data.rfind(name.encode()) + 1)
    assert data[entry + 46:entry + 46 + len(name)] == name.encode()
    struct.pack_into("<I", data, entry + 24, size)
    return bytes(data)


def refuse(capsys, path: Path) -> tuple[str, float]:
    start = time.perf_counter()
    code, err = problems(capsys, ["validate", str(path)])
    took = time.perf_counter() - start
    assert code == 2
    return err, took


def test_a_workbook_bomb_is_refused_before_it_is_parsed(tmp_path, capsys):
    """A 140 KB workbook that unpacks to 120 MB (about 880x; its first sheet
    alone about 1,000x): refused from the zip's declared sizes, before
    anything is unpacked."""
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(bomb(toy_workbook(tmp_path)))
    packed = path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(item.file_size for item in archive.infolist())
    assert packed < 150 * 2**10 and unpacked / packed > 850
    err, took = refuse(capsys, path)
    assert f"{path}: the workbook's parts declare 120 MB unpacked (the largest, {SHEET}, 120 MB from " in err
    assert "KB packed); more than 100 MB is refused before it is read" in err
    assert took < 2.0  # measured: about 0.01 s


def test_a_bomb_whose_header_lies_is_stopped_at_its_declared_size(tmp_path, capsys):
    """The same bomb declaring 20 KB for its 120 MB sheet: the part is
    unpacked as a bounded stream, which stops at what the header declares,
    and the part that then fails its check is refused. Nothing near 120 MB is
    ever unpacked."""
    path = tmp_path / "liar.xlsx"
    path.write_bytes(lie_about_sizes(bomb(toy_workbook(tmp_path)), SHEET, 20_000))
    err, took = refuse(capsys, path)
    assert f"{path}: the part {SHEET} does not match its header (Bad CRC-32 for file '{SHEET}'); refused" in err
    assert took < 2.0


def cells_sheet(cells: bytes, dimension: bytes | None = None):
    def write(stream):
        stream.write(HEAD)
        if dimension:
            stream.write(b'<dimension ref="' + dimension + b'"/>')
        stream.write(b"<sheetData>" + cells + b"</sheetData></worksheet>")

    return write


def test_a_sheet_that_declares_or_reaches_17_billion_cells_is_refused(tmp_path, capsys):
    """openpyxl fills a sheet in up to its declared range, or to its last
    row and column: two cells, A1 and XFD1048576, stand for 17 billion."""
    workbook = toy_workbook(tmp_path)
    path = tmp_path / "wide.xlsx"
    path.write_bytes(with_part(workbook, SHEET, cells_sheet(b'<row r="1"><c r="A1"><v>1</v></c></row>', b"A1:XFD1048576")))
    err, took = refuse(capsys, path)
    assert (
        f"{path}: sheet 'instance' ({SHEET}) declares the range A1:XFD1048576: 17,179,869,184 cells; "
        "more than 1,000,000 cells in all is refused before the workbook is read"
    ) in err
    assert took < 2.0
    far = b'<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    path.write_bytes(with_part(workbook, SHEET, cells_sheet(far)))
    err, _ = refuse(capsys, path)
    assert f"sheet 'instance' ({SHEET}) holds cells as far as XFD1048576 (2 written, 17,179,869,184 cells to read)" in err


def test_cells_are_counted_over_every_sheet_and_located(tmp_path):
    """Sheets of 3 x 10, 4 x 5 and 10 x 10 cells (their last cells written,
    so openpyxl declares those ranges): 150 in all pass a budget of 150;
    with 149 the third sheet is named, with what the sheets before it hold.
    Rows and cells without `r` follow the one before."""
    from openpyxl import Workbook

    workbook = Workbook()
    for index, (title, rows, columns) in enumerate([("instance", 10, 3), ("products", 5, 4), ("facilities", 10, 10)]):
        sheet = workbook.active if index == 0 else workbook.create_sheet()
        sheet.title = title
        sheet.cell(1, 1, "x")
        sheet.cell(rows, columns, 1)
    path = tmp_path / "three.xlsx"
    workbook.save(path)
    bounded_zip.check_workbook(path, max_cells=150)
    with pytest.raises(bounded_zip.Refused) as caught:
        bounded_zip.check_workbook(path, max_cells=149)
    assert caught.value.message == (
        "sheet 'facilities' (xl/worksheets/sheet3.xml) declares the range A1:J10: 100 cells beside 50 in the "
        "sheets before it; more than 149 cells in all is refused before the workbook is read"
    )
    extent = bounded_zip._Extent()
    for chunk in (b'<dimension ref="A1:B2"/><row><c><v>1</v></c><c/><c/></ro', b'w><row><x:c/></row><row r="7"><c r="B7"/></row>'):
        extent.feed(chunk)
    assert (extent.rows, extent.columns, extent.cells, extent.size) == (7, 3, 5, 21)
