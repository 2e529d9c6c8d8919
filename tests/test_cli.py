"""The `ree-opt` command line: what the analyst sees, and what it writes."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from ree_opt.cli import main


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_premium_text_shows_the_answer(capsys, spec_example):
    code, out, err = run(capsys, "premium", spec_example)
    assert code == 0, err
    assert "USD       427.14 million" in out
    assert "USD       893.17 million" in out
    assert "466.03 million (109.1%)" in out
    assert "of which unmet-demand penalty    USD       360.00 million" in out
    assert "ndpr_oxide   900" in out
    assert "ndpr_oxide 2027" in out
    assert "covered-share cap on NdPr oxide in 2026 binds" in out
    assert len(out.splitlines()) < 40  # under a screen


def test_premium_json_and_csv(capsys, spec_example, tmp_path):
    code, out, _ = run(capsys, "premium", spec_example, "--json", "--out", tmp_path / "out")
    assert code == 0
    payload = json.loads(out)
    assert payload["summary"]["premium_musd"] == pytest.approx(466.02875)
    assert payload["first_full_period"] == {"ndpr_oxide": 2027}
    table = pd.read_csv(tmp_path / "out" / "unmet.csv")
    assert table.loc[table["period"] == 2026, "non_china_t"].iloc[0] == pytest.approx(900)


def test_solve_with_scenario_writes_whole_tables(capsys, spec_example, tmp_path):
    code, out, _ = run(capsys, "solve", spec_example, "--scenario", "licences_25pct", "--out", tmp_path)
    assert code == 0
    assert "optimal, cost USD 545.58 million" in out
    activity = pd.read_csv(tmp_path / "activity.csv")
    assert list(activity.columns) == ["facility", "country", "stage", "label", "period", "quantity_t", "cost_musd"]
    assert activity["cost_musd"].sum() == pytest.approx(pd.read_csv(tmp_path / "cost_breakdown.csv").iloc[0, 1])
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_outputs_never_replace_an_input(capsys, tmp_path, spec_example):
    instance = tmp_path / "activity.csv"
    instance.write_text(spec_example.read_text())
    before = instance.read_text()
    code, _, err = run(capsys, "solve", instance, "--out", tmp_path)
    assert code == 2
    assert "it is an input file" in err
    assert instance.read_text() == before


def test_sweep_command(capsys, spec_example):
    code, out, _ = run(capsys, "sweep", spec_example, "-p", "max_covered_share", "-v", "1,0.5,0", "--json")
    assert code == 0
    rows = json.loads(out)["sweep"]
    assert [r["objective_musd"] for r in rows] == pytest.approx([427.14375, 431.74375, 893.1725])


def test_sweep_bad_arguments_exit_2(capsys, spec_example):
    assert run(capsys, "sweep", spec_example, "-p", "colour", "-v", "1")[0] == 2
    assert run(capsys, "sweep", spec_example, "-p", "cost", "-v", "1,x")[0] == 2
    assert run(capsys, "sweep", spec_example, "-p", "cost", "-v", "1", "--where", "country")[0] == 2


def test_compare_command(capsys, spec_example):
    code, out, _ = run(capsys, "compare", spec_example, "--markdown")
    assert code == 0
    assert "| lynas_slips_1y |" in out
    assert "| 451.1 |" in out


def test_unknown_scenario_exits_2(capsys, spec_example):
    code, _, err = run(capsys, "solve", spec_example, "-s", "nope")
    assert code == 2
    assert "unknown scenario 'nope'" in err


def test_module_entry_point(spec_example):
    done = subprocess.run(
        [sys.executable, "-m", "ree_opt", "validate", str(spec_example)], capture_output=True, text=True
    )
    assert done.returncode == 0
    assert "valid (3 periods" in done.stdout


def test_solve_lists_the_tightest_ranges(capsys, spec_example):
    """The five ranges with least room, ties left out; in JSON, a missing end is null."""
    from ree_opt import solve
    from ree_opt.ranging import tightest

    code, out, _ = run(capsys, "solve", spec_example)
    assert code == 0
    listed = out.split("Tightest ranges")[1].splitlines()[1:]
    expected = tightest(solve(spec_example).ranging, 5)["meaning"]
    assert [line.removeprefix("  - ") for line in listed] == list(expected)
    assert "Lynas NdPr oxide (Malaysia separation) may cost up to USD 97.4/kg in 2027" in out
    code, out, _ = run(capsys, "solve", spec_example, "--json")
    rows = {(r["kind"], r["facility"], r["period"]): r for r in json.loads(out)["ranging"]}
    lynas = rows[("cost", "lynas_ndpr", 2027)]
    assert (lynas["lower"], lynas["upper"]) == (pytest.approx(76.3333333), pytest.approx(97.3571429))
    assert rows[("cost", "lynas_ndpr", 2028)]["upper"] is None


# --------------------------------------------------------------------------
# Small things a first-time user trips on (issue 19, item 12)


def test_help_shows_a_single_percent_sign(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    out = capsys.readouterr().out
    assert "with a 95% interval" in out and "%%" not in out


@pytest.mark.parametrize("option, value, expected", [
    ("--omega", "1.5", "argument --omega: expected a number in [0, 1], got '1.5'"),
    ("--alpha", "1", "argument --alpha: expected a number in [0, 1), got '1'"),
    ("--omega", "x", "argument --omega: expected a number in [0, 1], got 'x'"),
])
def test_a_bad_omega_or_alpha_is_the_commands_problem_not_the_instances(capsys, spec_example, option, value, expected):
    with pytest.raises(SystemExit) as stopped:
        main(["stochastic", str(spec_example), option, value])
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert expected in err and "the instance has" not in err


def test_a_mistyped_scenario_gets_a_did_you_mean(capsys, spec_example):
    code, _, err = run(capsys, "premium", spec_example, "-s", "licences_25")
    assert code == 2
    assert "unknown scenario 'licences_25' (did you mean 'licences_25pct'?); the instance has: " in err
    code, _, err = run(capsys, "premium", spec_example, "-s", "zzz")  # nothing close: no guess
    assert "unknown scenario 'zzz'; the instance has" in err


@pytest.mark.parametrize("command", ["solve", "premium"])
def test_out_prints_a_wrote_line(capsys, spec_example, tmp_path, command):
    target = tmp_path / f"{command}.xlsx"
    code, out, _ = run(capsys, command, spec_example, "--out", target)
    assert code == 0
    assert out.splitlines()[-1] == f"wrote {target} ({target.stat().st_size / 1024:,.0f} KB)"
    code, out, _ = run(capsys, command, spec_example, "--out", tmp_path / "tables")
    assert out.splitlines()[-1].startswith("wrote ") and out.splitlines()[-1].endswith(f"CSV tables to {tmp_path / 'tables'}")


def test_a_problem_in_a_facility_names_its_id(capsys, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "periods: [2026]\nproducts: {ox: {shortfall_penalty: 1}}\nfacilities:\n"
        "  - {id: au, country: AU, stage: mine, outputs: {ox: 1}, capacity: 1, cost: 1}\n"
        "  - {id: lynas_malaysia_hre1, country: MY, stage: mine, outputs: {ox: 1}, capacity: -5, cost: 1}\n"
        "demand:\n  - {segment: ev, product: oxx, quantity: 1}\n"
    )
    code, _, err = run(capsys, "validate", path)
    assert code == 2
    assert f"{path}:5: facilities[1] (lynas_malaysia_hre1).capacity: expected a number >= 0.0 (got -5)" in err
    assert (f"{path}:7: demand[0] (ev / oxx).product: unknown product 'oxx' (did you mean 'ox'?); products are: ox"
            in err)


def test_the_readmes_command_table_is_one_table():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = text[text.index("## The command line"):]
    rows = section[section.index("| command |"):].split("\n\n")[0].splitlines()
    commands = {row.split("`")[1].split()[1] for row in rows[2:]}
    assert {"validate", "solve", "premium", "convert", "compare", "sweep", "report", "stochastic", "evaluate",
            "schema"} <= commands
