"""Runs with too few draws for Pareto-smoothed importance sampling (input audit F6).

``bayesff calibrate PROBLEM --chains 1 --warmup 20 --samples 20`` writes a valid run of
20 draws; ``bayesff report``, ``sensitivity --no-refit`` and ``compare`` of it failed with
arviz's raw "UserWarning: Number of tail draws cannot be less than 5" and "error:
ValueError: n_draws_tail must be at least 5", naming no file. Power-scaling sensitivity
(arviz ``psense``, ``pareto_khat``) and PSIS-LOO (``loo``, ``psislw``) all fit a Pareto
tail to ``floor(S / 5)`` of the S draws (arviz_stats ``_get_ps_tails``), and need 5 tail
draws: below :data:`bayesff.transferability.compare.PSIS_MIN_DRAWS` = 25 draws the report
says so and is still written, ``sensitivity`` and ``compare`` refuse in one line naming the
run file and the draws needed.

The runs are written by bayesff's own writer from hand-chosen draws (tests/handmade_runs.py):
one chain of S draws, two trained B2 targets, no sampling.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from arviz_stats.base import array_stats
from arviz_stats.base.diagnostics import _DiagnosticsBase
from handmade_runs import build_run, target

from bayesff import runfile
from bayesff.cli import main
from bayesff.report import report
from bayesff.sensitivity import SensitivityError, sensitivity
from bayesff.transferability import CompareError, compare

WHY_20 = "20 draws, 1 chain x 20; Pareto-smoothed importance sampling needs at least 25"


def _run_file(folder, s: int):
    """A run file of one chain of ``s`` draws and two trained targets (B2_a, B2_b)."""
    z = np.linspace(-1.0, 1.0, s)
    targets, draws = [], {}
    for i, name in enumerate(("B2_a", "B2_b")):
        T = np.array([200.0, 300.0, 400.0]) + 10.0 * i
        y = np.array([-50.0, -20.0, -5.0])
        targets.append(target(name, "second_virial", {"T_K": T}, y, u=1.0))
        model = y + 0.5 * np.sin(3.0 * z + i)[:, None]
        ll = -0.5 * (model - y) ** 2 - 0.1 * z[:, None] ** 2
        draws[name] = {"train": {"model": model, "rep": model + z[:, None], "ll": ll}}
    path = folder / f"run{s}" / "posterior.nc"
    path.parent.mkdir()
    runfile.write(build_run(targets, draws), path)
    return path


def test_sensitivity_of_20_draws_is_one_line_naming_the_file(tmp_path, capsys):
    """``bayesff sensitivity RUN --no-refit`` of a 20-draw run: exit status 2 (a
    BayesffError, as for a run whose chains never moved) and one line naming the run file,
    the draws it has and the 25 PSIS needs; no arviz warning. Expectation: finding F6 and
    PSIS_MIN_DRAWS (arviz_stats' tail rule, test_threshold_is_arviz_stats_tail_rule)."""
    path = _run_file(tmp_path, 20)
    assert main(["sensitivity", str(path), "--no-refit", "--quiet"]) == 2
    cap = capsys.readouterr()
    assert cap.err.splitlines() == [
        f"error: {path}: power-scaling sensitivity cannot be computed ({WHY_20}): "
        "calibrate with more draws (at least 25 over all chains)"
    ]
    assert cap.out == ""


def test_report_of_20_draws_is_written_and_says_why(tmp_path):
    """``bayesff report RUN`` of a 20-draw run writes the page and summary.json; the
    sensitivity section and the progress log say in words why there is no sensitivity
    (summary.json: null). Expectation: finding F6 (the report is still written)."""
    path = _run_file(tmp_path, 20)
    lines: list[str] = []
    index = report(path, tmp_path / "report", log=lambda m, **k: lines.append(m))
    page = index.read_text()
    start = page.index('<h2 id="sensitivity">')
    section = page[start : page.index("<h2", start + 5)]
    assert f"Not available: {path}: power-scaling sensitivity cannot be computed" in section
    assert WHY_20 in section
    summary = json.loads((index.parent / "summary.json").read_text())
    assert summary["sensitivity"] is None
    assert (
        "report: sensitivity not available: power-scaling sensitivity cannot be computed "
        f"({WHY_20}): calibrate with more draws (at least 25 over all chains)"
    ) in lines


def test_compare_of_20_draws_is_one_line_naming_the_file(tmp_path, capsys):
    """``bayesff compare RUN`` of a 20-draw run: exit status 2 and one line naming the run
    file and the 25 draws PSIS-LOO needs; compare() raises CompareError whose ``where`` is
    the file. Expectation: finding F6 (refuse with a BayesffError naming the file)."""
    path = _run_file(tmp_path, 20)
    assert main(["compare", str(path)]) == 2
    cap = capsys.readouterr()
    assert cap.err.splitlines() == [
        f"error: {path.resolve()}: PSIS-LOO cannot be computed for run 'synthetic' "
        f"({WHY_20}): calibrate it with more draws (at least 25 over all chains)"
    ]
    assert cap.out == ""
    with pytest.raises(CompareError) as e:
        compare({"synthetic": runfile.read(path)})
    assert e.value.where == str(path.resolve()) and WHY_20 in e.value.message


def test_threshold_is_arviz_stats_tail_rule(tmp_path):
    """25 draws is the boundary: arviz_stats' ``_get_ps_tails`` gives at least 5 tail draws
    for every S >= 25 and relative efficiency up to its cap log10(S) (the ESS is capped
    at S log10 S), and fewer for every S < 25; a 24-draw run is refused by sensitivity()
    and compare(), a 25-draw run is computed by both without any warning (pyproject's
    filterwarnings = error). Expectation: arviz_stats base/diagnostics.py."""
    short = _run_file(tmp_path, 24)
    with pytest.raises(SensitivityError, match="24 draws, 1 chain x 24"):
        sensitivity(short, refit=False)
    with pytest.raises(CompareError, match="24 draws, 1 chain x 24"):
        compare({"synthetic": short})

    enough = _run_file(tmp_path, 25)
    res = sensitivity(enough, refit=False)
    assert set(res.left_out) == {"B2_a", "B2_b"}
    assert all(lo.method.startswith("psis") for lo in res.left_out.values())
    out = compare({"synthetic": enough})
    assert out["loo"]["synthetic"]["n_samples"] == 25

    from bayesff.transferability.compare import PSIS_MIN_DRAWS  # new: after the behaviour

    assert PSIS_MIN_DRAWS == 25
    for s in range(2, 600):
        tails = [
            _DiagnosticsBase._get_ps_tails(s, r, tail="right")
            for r in np.linspace(1e-3, np.log10(s), 40)
        ]
        assert (min(tails) >= 5) == (s >= PSIS_MIN_DRAWS), s
        assert (max(tails) >= 5) == (s >= PSIS_MIN_DRAWS), s
    antithetic = np.where(np.arange(101) % 2 == 0, 1.0, -1.0)[None, :]  # ESS at its cap
    assert array_stats.ess(antithetic, method="mean", relative=True) <= np.log10(101)
