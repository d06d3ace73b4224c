"""A task's refused key names the ``[[when]]`` block or axis value that set it, and two
``[[when]]`` blocks that set one key of a task to different values are a warning.

A sweep with twenty ``[[when]]`` blocks whose task was refused named the task and the
field, not the block that put the bad value there (the user searched the file for it);
two blocks matching one task and setting one key differently left the later one's value
without a word. The sweeps here vary the argon VLE and B2 problems
(models/argon_lj_vle.toml, models/argon_lj_b2.toml) and are only checked (every task's
problem built, nothing sampled).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from bayesff import sweep as sweep_module
from bayesff.cli import main
from bayesff.sweep import check_sweep, expand

from support import ROOT

VLE = ROOT / "models" / "argon_lj_vle.toml"
B2 = ROOT / "models" / "argon_lj_b2.toml"
AXES = (
    '[[axes]]\nname = "form"\nvalues = [{ label = "lj" }, { label = "mie" }]\n\n'
    '[[axes]]\nname = "training"\nvalues = [{ label = "VLE" }, { label = "all" }]\n\n'
)


def _sweep(tmp_path: Path, body: str, base: Path = VLE, axes: str = AXES) -> Path:
    """A sweep file of ``base`` over ``axes``, then ``body`` (its [[when]] blocks)."""
    path = tmp_path / "sweep.toml"
    path.write_text(
        f'[sweep]\nname = "when_errors"\nbase = "{base}"\nreport = false\n\n'
        "[inference]\nsamples = 50\n\n" + axes + body
    )
    return path


def _line(path: Path, text: str) -> int:
    """The line number of the first line of ``path`` that starts with ``text``."""
    lines = path.read_text().splitlines()
    return next(i for i, x in enumerate(lines, 1) if x.startswith(text))


def test_a_refused_key_names_the_when_block_that_set_it(tmp_path):
    """The third block's selection keeps no row of p_sat: the task's error names the block
    (its number, index and line) and its match, after the field that says what is wrong;
    the tasks it does not match build."""
    path = _sweep(
        tmp_path,
        '[[when]]\nmatch = { form = "lj" }\nset = { inference = { seed = 1 } }\n\n'
        '[[when]]\nmatch = { training = "all" }\nset = { inference = { prior_draws = 20 } }\n\n'
        '[[when]]  # the bad one\nmatch = { form = "mie", training = "VLE" }\n'
        "set = { targets = { p_sat = { train = { T_K = [1.0, 2.0] } } } }\n",
    )
    _, problems, errors = check_sweep(path)
    assert sorted(problems) == ["lj-VLE", "lj-all", "mie-all"]
    line = _line(path, "[[when]]  # the bad one")
    assert errors == {
        "mie-VLE": "task mie-VLE (form = mie, training = VLE): targets[1] (p_sat).train: the "
        "training selection keeps no rows (use train = false for a target that is only "
        f"predicted) (set by [[when]] block 3 of sweep.toml (when[2], line {line}), which "
        "matches form=mie, training=VLE)"
    }


def test_a_schema_error_and_an_unknown_key_name_their_block_or_axis_value(tmp_path):
    """A schema error (a string for a range), an unknown [inference] key and a value out of
    range, each set by a block or an axis value, name it; the key the message names is the
    one looked up (``seeed``, ``target_accept``), not the table's other keys."""
    axes = AXES.replace(
        '{ label = "all" }', '{ label = "all", set = { inference = { target_accept = 1.5 } } }'
    )
    path = _sweep(
        tmp_path,
        '[[when]]\nmatch = { form = "mie", training = "VLE" }\n'
        'set = { targets = { p_sat = { train = { T_K = "hot" } } } }\n\n'
        '[[when]]\nmatch = { form = "lj", training = "VLE" }\n'
        "set = { inference = { seeed = 3 } }\n",
        axes=axes,
    )
    _, problems, errors = check_sweep(path)
    assert problems == {}
    first, second = _line(path, "[[when]]"), _line(path, "set = { inference = { seeed")
    assert errors["mie-VLE"].endswith(
        "targets[1].train.T_K: expected an array, got a string 'hot' (set by [[when]] block 1 "
        f"of sweep.toml (when[0], line {first}), which matches form=mie, training=VLE)"
    ), errors["mie-VLE"]
    assert "unknown key(s) seeed;" in errors["lj-VLE"]
    assert errors["lj-VLE"].endswith(
        f"(seeed set by [[when]] block 2 of sweep.toml (when[1], line {second - 2}), which "
        "matches form=lj, training=VLE)"
    ), errors["lj-VLE"]
    for task in ("lj-all", "mie-all"):
        assert errors[task] == (
            f"task {task} (form = {task[:-4]}, training = all): [inference]: target_accept "
            "must be in (0, 1), got 1.5 (target_accept set by axis 'training' value 'all' of "
            "sweep.toml)"
        )


def test_an_error_in_a_key_of_the_base_problem_is_left_as_it_was(tmp_path):
    """The base problem's own bad value (target_accept) is not blamed on the sweep's
    [inference] or a block that set other keys of the same table."""
    base = tmp_path / "base.toml"
    text = B2.read_text().replace('"data/argon/b2.csv"', f'"{ROOT}/data/argon/b2.csv"')
    base.write_text(text.replace("seed = 0\n", "seed = 0\ntarget_accept = 1.5\n"))
    path = _sweep(
        tmp_path,
        '[[when]]\nmatch = { form = "lj" }\nset = { inference = { seed = 4 } }\n',
        base=base,
    )
    _, _, errors = check_sweep(path)
    assert set(errors) == {"lj-VLE", "lj-all", "mie-VLE", "mie-all"}
    for task, message in errors.items():
        assert message.endswith("[inference]: target_accept must be in (0, 1), got 1.5"), (
            task,
            message,
        )


def test_sweep_check_prints_the_block_of_an_invalid_task(tmp_path, capsys):
    """``bayesff sweep --check`` prints the task's line with its block."""
    path = _sweep(
        tmp_path,
        '[[when]]\nmatch = { form = "lj", training = "all" }\n'
        'set = { parameters = { sigma = { unit = "furlong" } } }\n',
    )
    assert main(["sweep", str(path), "--check"]) == 1
    err = capsys.readouterr().err
    (line,) = [x for x in err.splitlines() if "lj-all" in x]
    assert "[parameters.sigma].unit: unknown length unit 'furlong'" in line
    assert line.endswith(
        f"(set by [[when]] block 1 of sweep.toml (when[0], line {_line(path, '[[when]]')}), "
        "which matches form=lj, training=all)"
    )


def test_two_blocks_setting_one_key_differently_warn_once_naming_both(tmp_path):
    """Both blocks match the two lj tasks and set p_sat's selection and the warm-up to
    different values: one warning per key (not per task) names the blocks, the key, both
    values and the tasks; the later block's value is used, as before."""
    path = _sweep(
        tmp_path,
        '[[when]]\nmatch = { form = "lj" }\n'
        "set = { inference = { warmup = 70 }, targets = { p_sat = { train = { T_K = [90.0, "
        "140.0] } } } }\n\n"
        '[[when]]\nmatch = { form = ["lj", "mie"] }\n'
        "set = { inference = { warmup = 80, seed = 5 }, "
        "targets = { p_sat = { train = false } } }\n",
    )
    with pytest.warns(sweep_module.WhenConflictWarning) as record:
        _, tasks = expand(path, tmp_path / "runs")
    messages = sorted(str(w.message) for w in record)
    first, second = (i for i, x in enumerate(path.read_text().splitlines(), 1) if x == "[[when]]")
    head = (
        f"{path}: [[when]] blocks 1 (when[0], line {first}) and 2 (when[1], line {second}) "
        "both set"
    )
    tail = (
        "block 2's value is used (blocks are merged in file order); if block 2 is meant to "
        "override block 1, give it a narrower match (a later block that matches only some "
        "of an earlier block's tasks overrides it without a warning), else remove one of "
        "the two settings"
    )
    assert messages == [
        f"{head} inference.warmup for 2 tasks (lj-VLE, lj-all), to different values: block "
        f"1 sets 70, block 2 sets 80; {tail}",
        f"{head} targets.p_sat.train for 2 tasks (lj-VLE, lj-all), to different values: "
        f'block 1 sets {{"T_K": [90.0, 140.0]}}, block 2 sets false; {tail}',
    ]
    docs = {t.name: t.document for t in tasks}
    assert docs["lj-VLE"]["inference"]["warmup"] == 80
    assert docs["lj-all"]["targets"][1]["train"] is False


def test_a_later_narrower_block_or_an_equal_value_is_not_a_conflict(tmp_path):
    """A later block that matches only some of an earlier block's tasks overrides it
    without a warning (the usual idiom: a rule for every task, then its exceptions), as
    does a later block that sets the same value, or a key inside a table an earlier block
    set whole without that key."""
    path = _sweep(
        tmp_path,
        "[[when]]\nset = { inference = { warmup = 70 } }\n\n"
        '[[when]]\nmatch = { form = "lj" }\nset = { inference = { warmup = 90 } }\n\n'
        '[[when]]\nmatch = { form = "lj", training = "VLE" }\n'
        "set = { inference = { warmup = 95 } }\n\n"
        '[[when]]\nmatch = { training = "VLE" }\n'
        'set = { potential = { cutoff = { scheme = "none" } } }\n\n'
        '[[when]]\nmatch = { training = ["VLE", "all"] }\n'
        'set = { potential = { cutoff = { scheme = "none" } } }\n\n'
        '[[when]]\nmatch = { form = "mie" }\nset = { pooling = { mode = "none" } }\n\n'
        "[[when]]\nset = { pooling = { extra = 1 } }\n",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, tasks = expand(path, tmp_path / "runs")
    warmup = {t.name: t.document["inference"]["warmup"] for t in tasks}
    assert warmup == {"lj-VLE": 95, "lj-all": 90, "mie-VLE": 70, "mie-all": 70}
    pooling = {t.name: t.document["pooling"] for t in tasks}
    assert pooling["mie-all"] == {"mode": "none", "extra": 1}
    assert pooling["lj-all"] == {"extra": 1}


def test_a_general_block_after_a_specific_one_is_a_conflict(tmp_path):
    """The reverse order (the exception first, then the rule for every task) silently
    defeated the exception: a warning, counting the tasks."""
    axes = AXES.replace('{ label = "mie" }', '{ label = "mie" }, { label = "sw" }')
    path = _sweep(
        tmp_path,
        '[[when]]\nmatch = { form = "lj" }\nset = { parameters = { sigma = { prior = '
        '{ dist = "Uniform", low = 3.2, high = 3.6 } } } }\n\n'
        '[[when]]\nset = { parameters = { sigma = { prior = { dist = "Normal", loc = 3.4, '
        "scale = 0.1 } } } }\n",
        base=B2,
        axes=axes,
    )
    with pytest.warns(sweep_module.WhenConflictWarning) as record:
        expand(path, tmp_path / "runs")
    (w,) = [str(r.message) for r in record]
    assert (
        "both set parameters.sigma.prior for 2 tasks (lj-VLE, lj-all), to different values: "
        'block 1 sets {"dist": "Uniform", "low": 3.2, "high": 3.6}, block 2 sets {"dist": '
        '"Normal", "loc": 3.4, "scale": 0.1}; block 2\'s value is used'
    ) in w


def test_conflicts_over_many_tasks_are_counted(tmp_path):
    """Over more than three tasks the warning counts them and names the first three."""
    axes = '[[axes]]\nname = "seed"\nvalues = [' + ", ".join(
        f'{{ label = "s{i}" }}' for i in range(6)
    )
    path = _sweep(
        tmp_path,
        "[[when]]\nset = { inference = { warmup = 70 } }\n\n"
        "[[when]]\nset = { inference = { warmup = 80 } }\n",
        base=B2,
        axes=axes + "]\n\n",
    )
    with pytest.warns(sweep_module.WhenConflictWarning) as record:
        expand(path, tmp_path / "runs")
    (w,) = [str(r.message) for r in record]
    assert "both set inference.warmup for 6 tasks (s0, s1, s2 and 3 more), to" in w


def test_a_set_replaces_a_targets_row_filter_whole(tmp_path):
    """``rows`` (a target's row filter) is a selection like ``train``: a set replaces the
    base's, it does not add a column's range to it."""
    base = tmp_path / "base.toml"
    text = B2.read_text().replace('"data/argon/b2.csv"', f'"{ROOT}/data/argon/b2.csv"')
    base.write_text(text.replace("train = {", "rows = { T_K = [90.0, 600.0] }\ntrain = {"))
    axes = (
        '[[axes]]\nname = "rows"\nvalues = [{ label = "base" }, { label = "narrow", set = '
        "{ targets = { B2 = { rows = { B2_GERG2008_cm3_per_mol = [-100.0, 0.0] } } } } }]\n\n"
    )
    _, tasks = expand(_sweep(tmp_path, "", base=base, axes=axes), tmp_path / "runs")
    rows = {t.name: t.document["targets"][0]["rows"] for t in tasks}
    assert rows == {
        "base": {"T_K": [90.0, 600.0]},
        "narrow": {"B2_GERG2008_cm3_per_mol": [-100.0, 0.0]},
    }


def test_a_block_that_frees_a_parameter_another_fixed_is_a_conflict(tmp_path):
    """A parameter takes a prior or a value: a later block's prior removes an earlier
    block's fixed value (a fixed parameter becomes sampled), which is a conflict too."""
    path = _sweep(
        tmp_path,
        '[[when]]\nmatch = { form = "lj" }\nset = { parameters = { sigma = { value = 3.4 } } }\n\n'
        '[[when]]\nmatch = { training = "VLE" }\nset = { parameters = { sigma = { prior = '
        '{ dist = "Uniform", low = 3.2, high = 3.6 } } } }\n',
        base=B2,
    )
    with pytest.warns(sweep_module.WhenConflictWarning) as record:
        _, tasks = expand(path, tmp_path / "runs")
    (w,) = [str(r.message) for r in record]
    assert (
        "both set parameters.sigma.value for 1 task (lj-VLE), to different values: block 1 "
        "sets 3.4, block 2 sets none (its prior for the parameter removes the value)"
    ) in w, w
    sigma = {t.name: t.document["parameters"]["sigma"] for t in tasks}
    assert "value" not in sigma["lj-VLE"] and sigma["lj-all"]["value"] == 3.4


def test_a_later_block_whose_match_names_more_axes_but_the_same_tasks_is_a_conflict(
    tmp_path,
):
    """Review, 2026-11-30: a later match that names more axes was taken for narrower
    even when it picks the same tasks (training = every label), so it overrode the
    earlier block without a warning. Narrower is by the tasks matched."""
    path = _sweep(
        tmp_path,
        '[[when]]\nmatch = { form = "mie" }\nset = { inference = { warmup = 70 } }\n\n'
        '[[when]]\nmatch = { form = "mie", training = ["VLE", "all"] }\n'
        "set = { inference = { warmup = 80 } }\n",
    )
    with pytest.warns(sweep_module.WhenConflictWarning, match="both set inference.warmup"):
        expand(path, tmp_path / "runs")


def test_a_training_selection_emptied_by_a_rows_filter_names_both_setters(tmp_path):
    """Review, 2026-11-30: a block set rho_l's rows filter to 85-115 K and an axis value
    its training selection to 130-140 K; the refusal named only the axis value, though
    the filter removed the rows. Now it says the filter left them (the 12 rows of
    data/vle/saturation_argon.csv at 85-115 K) and names its block."""
    axes = AXES.replace(
        '{ label = "all" }',
        '{ label = "all" }, { label = "hot", set = { targets = { rho_l = { train = '
        "{ T_K = [130.0, 140.0] } } } } }",
    )
    path = _sweep(
        tmp_path,
        '[[when]]\nmatch = { form = "mie" }\n'
        "set = { targets = { rho_l = { rows = { T_K = [85.0, 115.0] } } } }\n",
        axes=axes,
    )
    _, problems, errors = check_sweep(path)
    assert "lj-hot" in problems and "mie-hot" not in problems
    msg = errors["mie-hot"]
    assert "training selection keeps no rows, of the 12 its rows filter kept," in msg, msg
    assert "set by axis 'training' value 'hot'" in msg, msg
    assert "the rows filter set by [[when]] block 1 of sweep.toml" in msg, msg


def test_a_held_out_group_emptied_by_a_rows_filter_names_the_filters_setter(tmp_path):
    """Audit, 2026-11-30: a block set B2's rows filter to 120-700 K, which leaves the
    base problem's held-out group 'low T' (85-110 K) nothing; the refusal blamed the
    training set and named no setter. It now says the filter kept the rows, and names
    the block that set the filter."""
    path = _sweep(
        tmp_path,
        '[[when]]\nmatch = { form = "mie" }\n'
        "set = { targets = { B2 = { rows = { T_K = [120.0, 700.0] } } } }\n",
        base=B2,
    )
    _, problems, errors = check_sweep(path)
    assert "lj-VLE" in problems and "mie-VLE" not in problems
    msg = errors["mie-VLE"]
    assert "[transferability].holdout[0]" in msg, msg
    assert "of target 'B2' that its rows filter kept lies in it" in msg, msg
    assert "the rows filter set by [[when]] block 1 of sweep.toml" in msg, msg
