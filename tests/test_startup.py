"""`ree-opt --help` and `ree-opt validate` answer at once: they import
neither the solver nor the table, model or chart libraries (measured in
benchmarks/startup.py; here only what is imported is checked)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "highspy", "pyomo", "scipy", "matplotlib", "numpy", "rich")

PROBE = """
import json, sys
import ree_opt.cli
try:
    code = ree_opt.cli.main({argv!r})
except SystemExit as stop:  # --help exits
    code = stop.code
loaded = sorted({{name.split(".")[0] for name in sys.modules}} & set({heavy!r}))
print(json.dumps({{"code": code, "loaded": loaded}}))
"""


def imported_by(argv: list[str]) -> dict:
    script = PROBE.format(argv=argv, heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["validate", str(ROOT / "instances" / "baseline.yaml")],
        ["validate", "--json", str(ROOT / "instances" / "toy.yaml")],
        ["solve", "--help"],
    ],
)
def test_help_and_validate_import_no_solver_nor_tables(argv):
    result = imported_by(argv)
    assert result["code"] == 0
    assert result["loaded"] == []


@pytest.mark.parametrize("argv", [["--help"], ["solve", "--help"]])
def test_help_does_not_even_load_the_instance_format(argv):
    script = (
        "import sys\n"
        "import ree_opt.cli\n"
        "try:\n"
        f"    ree_opt.cli.main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('pydantic', 'yaml', 'ree_opt.instance') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_bad_input_on_the_quick_path_still_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("periods: [2026]\nproducts: {}\n")
    result = imported_by(["validate", str(bad)])
    assert result["code"] == 2
    assert result["loaded"] == []


def test_the_public_names_load_on_use():
    script = (
        "import sys, ree_opt\n"
        "before = 'ree_opt.plan' in sys.modules\n"
        "from ree_opt import solve, Solution, report\n"
        "import ree_opt.plan\n"
        "from ree_opt.report import build_report\n"
        "assert solve is ree_opt.plan.solve and report is build_report\n"
        "assert ree_opt.report is build_report  # not the subpackage of that name\n"
        "assert sorted(ree_opt.__all__) == ree_opt.__all__ and 'sweep' in dir(ree_opt)\n"
        "assert all(hasattr(ree_opt, name) for name in ree_opt.__all__)\n"
        "print(before)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "False"
    with pytest.raises(AttributeError, match="no attribute 'solvee'"):
        import ree_opt

        ree_opt.solvee  # noqa: B018


def run_python(script: str) -> str:
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_loading_checks_scenarios_however_it_is_entered():
    """`ree_opt.load_instance` and `ree_opt.loading.load_instance` are one
    function, and it applies every scenario: a bad one is refused."""
    script = (
        "import ree_opt, yaml\n"
        "from ree_opt.loading import load_instance\n"
        "assert ree_opt.load_instance is load_instance\n"
        f"data = yaml.safe_load(open({str(ROOT / 'instances' / 'toy.yaml')!r}))\n"
        "data['scenarios'] = {'bad': {'set': {'no_such_facility': {'cost': 1}}}}\n"
        "try:\n"
        "    load_instance(data)\n"
        "except ree_opt.InstanceError as error:\n"
        "    print(error)\n"
    )
    assert "scenarios.bad.set.no_such_facility: unknown facility id 'no_such_facility'" in run_python(script)


def test_a_workbook_is_read_through_the_lazy_reader(tmp_path):
    """Loading a YAML instance does not load ree_opt.excel (pandas, openpyxl);
    the first workbook read does."""
    workbook = tmp_path / "toy.xlsx"
    script = (
        "import sys\n"
        "from ree_opt.cli import main\n"
        f"assert main(['convert', {str(ROOT / 'instances' / 'toy.yaml')!r}, {str(workbook)!r}]) == 0\n"
    )
    run_python(script)
    script = (
        "import sys\n"
        "import ree_opt\n"
        "before = 'ree_opt.excel' in sys.modules\n"
        f"instance = ree_opt.load_instance({str(workbook)!r})\n"
        "print(before, 'ree_opt.excel' in sys.modules, len(instance.facilities))\n"
    )
    assert run_python(script) == f"False True {len(__import__('ree_opt').load_instance(ROOT / 'instances' / 'toy.yaml').facilities)}"


def test_only_the_command_asked_for_is_built_and_it_parses_alike():
    """`ree-opt validate X` builds the parser of `validate` alone; the
    command list is complete and each command parses as the full parser does."""
    from ree_opt.cli import parser

    full = parser()
    commands = list(full._subparsers._group_actions[0].choices)
    assert "validate" in commands and "schema" in commands
    for name in commands:  # each alone, and the list of them all for a misspelt one
        assert list(parser(name)._subparsers._group_actions[0].choices) == [name]
    assert list(parser("solvee")._subparsers._group_actions[0].choices) == commands
    for argv in (
        ["validate", "x.yaml", "--json"],
        ["--debug", "solve", "x.yaml", "-s", "a,b", "--time-limit", "5", "--solver", "cbc"],
        ["stochastic", "x.yaml", "--omega", "0.5", "--sample", "10", "--seed", "3", "-q"],
        ["convert", "x.yaml", "y.xlsx"],
        ["schema", "-o", "s.json"],
    ):
        asked = parser(argv[1] if argv[0] == "--debug" else argv[0])
        assert len(asked._subparsers._group_actions[0].choices) == 1
        assert vars(asked.parse_args(argv)) == vars(full.parse_args(argv))


def test_the_collector_is_off_for_validate_and_on_for_a_command_that_solves():
    """The console script starts with the cyclic garbage collector off, turns
    it back on before a command that solves, and freezes what is left at
    exit (the interpreter's last collection then walks nothing)."""
    toy = str(ROOT / "instances" / "toy.yaml")
    script = (
        "import gc, sys\n"
        "import ree_opt.cli as cli\n"
        "cli.cmd_solve = lambda args: print('solve sees the collector', gc.isenabled()) or 0\n"
        "for argv in (['validate', {toy!r}], ['solve', {toy!r}]):\n"
        "    gc.enable(); gc.unfreeze()\n"
        "    sys.argv = ['ree-opt'] + argv\n"
        "    try:\n"
        "        cli.run()\n"
        "    except SystemExit as stop:\n"
        "        print(argv[0], stop.code, gc.isenabled(), gc.get_freeze_count() > 0)\n"
    ).format(toy=toy)
    assert run_python(script).splitlines()[-3:] == [
        "validate 0 False True", "solve sees the collector True", "solve 0 True True",
    ]
