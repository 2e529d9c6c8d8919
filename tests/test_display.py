"""How results show in a terminal and in Jupyter (ree_opt/display.py): a
readable summary as `repr`, an escaped HTML table as `_repr_html_`."""

from builders import demand, facility, instance
from test_stochastic import licence_gamble

import ree_opt
from ree_opt.solution import empty_solution

HOSTILE = "<script>alert(1)</script>"


def two_suppliers(name_a="a"):
    """A: 50 USD/kg up to 60 t, B: 80 USD/kg; 100 t wanted: 60 x 50 + 40 x 80 = 6,200 thousand USD."""
    return instance(
        [facility("a", "AU", 50, 60, name=name_a), facility("b", "CA", 80, 100)],
        [demand(100)],
        products={"ox": {"shortfall_penalty": 200}},
    )


def test_solution_repr_is_a_readable_summary():
    text = repr(ree_opt.solve(two_suppliers()))
    lines = text.splitlines()
    assert lines[0] == "Solution 'known-answer': optimal, cost USD 6.20 million"
    assert lines[1] == "  supply 6.20 | holding 0.00 | sales -0.00 | unmet-demand penalty 0.00"
    assert lines[2] == "  2026: 100 t delivered (0.0% covered), 0 t unmet; 2 facilities in 2 countries"
    assert lines[3] == "  binds hardest: capacity of a (AU) binds in 2026: USD 30,000 saved per extra tonne of ox separation capacity"
    assert lines[4] == (
        "  tightest range: b may cost up to USD 200.0/kg in 2026 and the plan holds (now 80.0); "
        "below USD 50.0/kg it may take more"
    )


def test_solution_html_is_a_table_and_escapes_names():
    html = ree_opt.solve(two_suppliers(name_a=HOSTILE))._repr_html_()
    assert html.startswith('<div class="ree-opt-solution">')
    assert "<table" in html and "6.20" in html
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_failed_solve_shows_its_status_and_message():
    failed = empty_solution("infeasible", f"HiGHS: {HOSTILE}", "x")
    assert repr(failed) == f"Solution 'x': infeasible. HiGHS: {HOSTILE}"
    assert HOSTILE not in failed._repr_html_()


def test_comparison_shows_the_premium(spec_example):
    """SPEC section 2's worked answer: 893.17 - 427.14 = 466.03 USD million."""
    comparison = ree_opt.non_china_premium(spec_example)
    text = repr(comparison)
    assert text.splitlines()[0].endswith("the non-China premium is USD 466.03 million (+109.1%)")
    assert "unmet without China: 900 t" in text
    html = comparison._repr_html_()
    assert "466.03" in html and "893.17" in html and "<table" in html


def test_stochastic_solution_shows_its_answer():
    """The licence gamble of test_stochastic: objective 3.0, EVPI 1.0, VSS 2.5."""
    sol = ree_opt.solve_stochastic(licence_gamble())
    text = repr(sol)
    assert "optimal, 2 futures, revealed in 2027" in text.splitlines()[0]
    assert "objective USD 3.00 million; expected cost USD 3.00 million" in text
    assert "VSS USD 2.50 million; EVPI USD 1.00 million" in text
    html = sol._repr_html_()
    assert html.startswith('<div class="ree-opt-stochastic">') and "2.50" in html
