"""The MD workflow: `bayesff prepare` (data files with provenance), loading them into
Target.aux, and `bayesff refine` (calibrate -> check the trust region -> re-simulate).

A small system in a temporary problem directory: LJ argon-like (epsilon/k = 120 K,
sigma = 3.4 angstrom) at T* = 2, rho* = 0.6, N = 64, r_cut = 2.3 sigma (L/2 = 2.37
sigma), 1000 + 2000 steps, a frame every 20 (100 frames): a reference run takes
~10 s. The observed p and E come from a run at the truth with another seed (synthetic
data, labelled so in the test manifest), with standard uncertainties 2.1x that run's
block standard error (the reference run's error is of the same size and adds in
quadrature, x sqrt(2); a 10-block standard error is itself uncertain by ~24 %, hence
1.5 on top). Measured: six seeds at the truth scatter by 2.1 MPa in p and 0.014 kJ/mol
in E, within their block standard errors (1.9-5.5 MPa, 0.014-0.034 kJ/mol); with 500
equilibration steps from the fcc start one seed in four was off by 5 of them.

Cost, measured on the 2 shared cores under load 4-8: the fast tests ~40 s (one
module-scoped prepare: jax-md import and compilation ~20 s); the slow refine loop
(three reference runs, two or three calibrations of 2 x (80 + 80) draws sharing one
compiled sampler) ~3 min.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("jax_md")  # optional extra: pip install bayesff[md]

from bayesff import prepared
from bayesff.errors import ProblemError
from bayesff.potentials import get_potential
from bayesff.problem import Problem
from bayesff.simulate import lj_md
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K
from bayesff.workflows import refine as refine_mod
from bayesff.workflows.prepare import prepare

LJ = get_potential("lennard_jones")
EPS_K, SIGMA = 120.0, 3.4
TRUTH = {"epsilon": EPS_K * GAS_CONSTANT_KJ_PER_MOL_K, "sigma": SIGMA}  # kJ/mol, angstrom
T_K, RHO = 2.0 * EPS_K, 0.6 / SIGMA**3
RUN = {
    "n_particles": 64,
    "n_steps": 2000,
    "n_equil": 1000,
    "sample_every": 20,
    "r_cut_angstrom": 2.3 * SIGMA,
}
B2_T_K = (150.0, 200.0, 300.0, 450.0, 700.0)
UNITS = {
    "T_K": "K",
    "rho_per_A3": "1/angstrom^3",
    "p_MPa": "MPa",
    "u_p_MPa": "MPa",
    "E_res_kJ_per_mol": "kJ/mol",
    "u_E_res_kJ_per_mol": "kJ/mol",
}


def _inline(d: dict) -> str:
    return ", ".join(f"{k} = {v!r}" for k, v in d.items())


#: Priors of the problem file: epsilon/k LogNormal median (K), sigma Uniform bounds (angstrom).
PRIORS = {"epsilon_median": 120.0, "sigma_bounds": (3.3, 3.5)}


def problem_text(
    reference: dict, name: str = "md_small", priors: dict | None = None, **run
) -> str:
    pr = {**PRIORS, **(priors or {})}
    lo, hi = pr["sigma_bounds"]
    options = f"reference = {{ {_inline(reference)} }}, {_inline({**RUN, **run})}"
    return f"""\
[problem]
name = "{name}"
description = "MD workflow test"

[potential]
kind = "lennard_jones"

[parameters.epsilon]
unit = "K"
prior = {{ dist = "LogNormal", median = {pr["epsilon_median"]!r}, scale = 0.05 }}

[parameters.sigma]
unit = "angstrom"
prior = {{ dist = "Uniform", low = {lo!r}, high = {hi!r} }}

[[targets]]
name = "B2"
observable = "second_virial"
data = "data/b2.csv"

[[targets]]
name = "p"
observable = "md_pressure"
data = "data/liquid.csv"
noise = {{ column = "u_p_MPa" }}
options = {{ {options} }}

[[targets]]
name = "E"
observable = "md_energy"
data = "data/liquid.csv"
noise = {{ column = "u_E_res_kJ_per_mol" }}
options = {{ {options} }}

[inference]
chains = 2
warmup = 80
samples = 80
seed = 0
prior_draws = 10
max_tree_depth = 6
"""


@pytest.fixture(scope="module")
def data_run():
    res = lj_md.simulate(LJ, TRUTH, T_K, RHO, seed=1, store_frames=False, **RUN)
    assert res.status == lj_md.OK
    return res


def _entry(path: Path, title: str, source: str, units: dict) -> str:
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    lines = "\n".join(f'{k} = "{v}"' for k, v in units.items())
    return f"""[[files]]
path = "{path.name}"
kind = "synthetic"
title = "{title}"
source = "{source} in tests/test_workflows_md.py"
licence = "MIT"
script = "tests/test_workflows_md.py"
sha256 = "{sha}"
[files.units]
{lines}
"""


def make_dir(root: Path, data_run, reference: dict, priors: dict | None = None) -> Path:
    """root/models/md.toml + root/data/{liquid,b2}.csv (synthetic) + manifest."""
    from bayesff.observables.virial import second_virial

    (root / "models").mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    up, ue = 2.1 * data_run.pressure_se_MPa, 2.1 * data_run.energy_se_kJ_per_mol
    csv = root / "data" / "liquid.csv"
    csv.write_text(
        ",".join(UNITS) + "\n"
        f"{T_K!r},{RHO!r},{data_run.pressure_MPa!r},{up!r},{data_run.energy_kJ_per_mol!r},{ue!r}\n"
    )
    b2 = root / "data" / "b2.csv"
    values = np.asarray(second_virial(LJ, TRUTH, np.array(B2_T_K)))
    b2.write_text(
        "T_K,B2_cm3_per_mol,u_B2_cm3_per_mol\n"
        + "".join(f"{t!r},{float(v)!r},0.5\n" for t, v in zip(B2_T_K, values, strict=True))
    )
    b2_units = {"T_K": "K", "B2_cm3_per_mol": "cm^3/mol", "u_B2_cm3_per_mol": "cm^3/mol"}
    (root / "data" / "manifest.toml").write_text(
        _entry(csv, "p and E of an LJ NVT run at the truth (seed 1)", "lj_md.simulate", UNITS)
        + "\n"
        + _entry(b2, "B2 of the same LJ at the truth", "virial.second_virial", b2_units)
    )
    (root / "models" / "md.toml").write_text(problem_text(reference, priors=priors))
    return root


@pytest.fixture(scope="module")
def prepared_dir(tmp_path_factory, data_run):
    """A problem directory with its runs prepared (prepared/md_small under it)."""
    root = make_dir(tmp_path_factory.mktemp("md"), data_run, TRUTH)
    paths = prepare(root / "models" / "md.toml", directory=root / "prepared" / "md_small")
    return root, paths


def load(root: Path, **kw) -> Problem:
    return Problem.from_toml(
        root / "models" / "md.toml", prepared=root / "prepared" / "md_small", **kw
    )


# ------------------------------------------------------------------- prepare: files


def test_prepare_writes_data_files_with_provenance(prepared_dir, monkeypatch):
    """One run for the state (the pressure and energy targets share it): npz (no pickle)
    + JSON header + manifest.toml with kind synthetic, the MD settings, the reference,
    package versions and the file's real sha256. A second prepare finds it up to date
    and simulates nothing (lj_md.simulate made to fail)."""
    root, paths = prepared_dir
    d = root / "prepared" / "md_small"
    assert len(paths) == 1 and paths[0].suffix == ".npz" and paths[0].parent == d
    with np.load(paths[0], allow_pickle=False) as f:
        assert {"r", "mask", "u_ref", "S_frames", "q", "d_pressure"} <= set(f.files)
        assert f["r"].shape[0] == RUN["n_steps"] // RUN["sample_every"]
    head = json.loads(paths[0].with_suffix(".json").read_text())
    assert head["reference"] == pytest.approx(TRUTH)
    assert head["simulate"]["n_particles"] == 64 and head["simulate"]["seed"] == 0
    assert sorted(head["targets"]) == ["E", "p"]
    manifest = tomllib.loads((d / "manifest.toml").read_text())
    (entry,) = manifest["files"]
    assert entry["kind"] == "synthetic"
    assert entry["sha256"] == hashlib.sha256(paths[0].read_bytes()).hexdigest()
    for word in ("n_steps = 2000", "sigma = 3.4", "jax-md", "numpy", "bayesff"):
        assert word in entry["source"], word
    assert entry["units"]["r"] == "angstrom" and entry["units"]["u_ref"] == "kJ/mol"

    def no_simulation(*a, **k):  # pragma: no cover - reached only if up-to-date is missed
        raise AssertionError("simulated although the prepared run is up to date")

    monkeypatch.setattr(lj_md, "simulate", no_simulation)
    again = prepare(root / "models" / "md.toml", directory=d, log=None)
    assert again == paths


def test_loading_reads_the_prepared_runs_into_aux(prepared_dir):
    """Problem.from_toml attaches the arrays to both MD targets, names the runs in a
    comment appended to the problem text (so the run file records them) and in what
    `bayesff check` prints, and the problem's fingerprint covers them."""
    root, paths = prepared_dir
    problem = load(root)
    for t in problem.targets[1:]:  # p and E (B2 reads no prepared data)
        assert t.aux is not None and t.aux["r"].shape[:2] == (1, 100)
        assert t.aux["reference"][0] == pytest.approx([TRUTH["epsilon"], SIGMA])
    assert prepared.MARKER in problem.source_text
    assert paths[0].name in problem.source_text
    assert "prepared reference runs (bayesff prepare): 1 state(s)" in problem.describe()
    tomllib.loads(problem.source_text)  # still a valid problem file
    again = load(root)
    assert again.fingerprint() == problem.fingerprint()
    t = again.targets[1]
    changed = again.with_target(t.replace(aux={**t.aux, "u_ref": t.aux["u_ref"] + 1e-9}))
    assert changed.fingerprint() != problem.fingerprint()


def test_missing_stale_or_damaged_prepared_data_is_a_clear_error(tmp_path, prepared_dir, data_run):
    """No prepared run, a run for other settings (n_steps changed, or another reference
    option), a damaged npz and a damaged header each give a ProblemError naming the
    target, what is wrong and the command to run."""
    root = make_dir(tmp_path, data_run, TRUTH)
    problem_file = root / "models" / "md.toml"
    with pytest.raises(ProblemError, match=r"target 'p'.*no prepared MD run for T = 240 K"):
        Problem.from_toml(problem_file, prepared=root / "prepared")
    with pytest.raises(ProblemError, match=rf"run `bayesff prepare {problem_file}`"):
        Problem.from_toml(problem_file, prepared=root / "prepared")
    src = prepared_dir[0] / "prepared" / "md_small"
    problem_file.write_text(problem_text(TRUTH, n_steps=2400))
    with pytest.raises(ProblemError, match=r"stale \(simulate.n_steps: 2000 there, 2400 now"):
        Problem.from_toml(problem_file, prepared=src)
    problem_file.write_text(problem_text({**TRUTH, "sigma": 3.41}))
    with pytest.raises(ProblemError, match=r"stale \(reference_option.sigma: 3.4 there"):
        Problem.from_toml(problem_file, prepared=src)
    copy = root / "copy"
    copy.mkdir()
    for f in src.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    npz = next(copy.glob("*.npz"))
    npz.write_bytes(npz.read_bytes() + b"\0")
    problem_file.write_text(problem_text(TRUTH))
    with pytest.raises(ProblemError, match="does not match the sha256"):
        Problem.from_toml(problem_file, prepared=copy)
    # a truncated header was "no prepared MD run" (audit, 2026-11-27); one without its
    # npz key a bare KeyError: now each names the header and says it is damaged
    js = next(copy.glob("*.json"))
    text = js.read_text()
    js.write_text(text[: len(text) // 2])
    with pytest.raises(ProblemError, match=rf"{js.name} is there but is not the JSON header"):
        Problem.from_toml(problem_file, prepared=copy)
    head = json.loads(text)
    del head["npz"]
    js.write_text(json.dumps(head))
    with pytest.raises(ProblemError, match=r"the header lacks or mangles npz"):
        Problem.from_toml(problem_file, prepared=copy)


def test_prepare_and_refine_subcommands(prepared_dir, monkeypatch, capsys, tmp_path):
    """`bayesff prepare` and `bayesff refine` through bayesff.cli.main (registered in
    bayesff.cli.COMMANDS): prepare in the problem's own directory says up to date;
    refine of a problem without MD targets is a one-line error (exit 2)."""
    from bayesff import cli

    root, _ = prepared_dir
    monkeypatch.chdir(root)
    assert cli.main(["prepare", "models/md.toml"]) == 0
    assert "up to date" in capsys.readouterr().out
    (tmp_path / "b2.toml").write_text(
        problem_text(TRUTH).split("[[targets]]")[0]
        + '[[targets]]\nname = "B2"\nobservable = "second_virial"\n'
        + f'data = "{Path(__file__).resolve().parent.parent / "data/argon/b2.csv"}"\n'
    )
    assert cli.main(["refine", str(tmp_path / "b2.toml")]) == 2
    assert "no MD target: nothing to refine" in capsys.readouterr().err
    assert cli.main(["prepare", str(tmp_path / "missing.toml")]) == 2


def _run_file(path: Path) -> Path:
    """A real (tiny) bayesff run file at ``path``, written by bayesff's own writer."""
    from handmade_runs import build_run, target

    from bayesff import runfile

    t = target("B2", "second_virial", {"T_K": np.array([300.0, 400.0])}, np.array([-10.0, -5.0]))
    rows = np.zeros((3, 2))
    dt = build_run([t], {"B2": {"train": {"model": rows, "rep": rows, "ll": rows}}})
    path.parent.mkdir(parents=True, exist_ok=True)
    return runfile.write(dt, path)


def test_refine_force_replaces_only_its_own_round_files(prepared_dir, tmp_path, monkeypatch):
    """Audit: `refine --force` removed whole round folders (shutil.rmtree), a user's notes
    and a posterior.nc that was no run file with them. Now, before any work, a file named
    like a round file that refine did not write is refused and nothing is removed; with
    only refine's own files there (run files, checkpoint, prepared copies, in any round,
    also beyond --rounds) those go and the user's notes stay; a round folder, or its
    prepared folder, that is a symbolic link out of the rounds' folder is refused and
    what it points to is left as it is."""
    from bayesff.errors import RunExistsError
    from bayesff.inference.checkpoint import Checkpoint
    from bayesff.io import OutputError

    root, _ = prepared_dir
    problem, d = root / "models" / "md.toml", root / "prepared" / "md_small"
    started = []

    class Started(Exception):
        pass

    def work(*a, **k):
        started.append(k)
        raise Started

    monkeypatch.setattr(refine_mod, "prepare", work)
    out = tmp_path / "refine"
    r1 = out / "round-1"
    (r1 / "prepared").mkdir(parents=True)
    (r1 / "notes.txt").write_text("my notes")
    (r1 / "posterior.nc").write_text("not a run file")
    with pytest.raises(
        RunExistsError,
        match=r"round-1/posterior\.nc: not a file bayesff refine wrote \(expected a bayesff run",
    ):
        refine_mod.refine(problem, max_rounds=1, out=out, force=True, directory=d)
    assert (r1 / "notes.txt").read_text() == "my notes"
    assert (r1 / "posterior.nc").read_text() == "not a run file" and not started
    # only refine's own files: they go (round-3 too: it would mix with the new rounds)
    (r1 / "posterior.nc").unlink()
    _run_file(r1 / "posterior.nc")
    _run_file(out / "round-3" / "posterior.nc")
    Checkpoint(r1 / "checkpoint.npz", {"problem_fingerprint": "x"}).save({"x": np.zeros(2)}, {}, 3)
    (r1 / "prepared" / "p_T240.json").write_text("{}")
    (r1 / "prepared" / "manifest.toml").write_text("")
    with pytest.raises(Started):
        refine_mod.refine(problem, max_rounds=1, out=out, force=True, directory=d)
    left = sorted(str(f.relative_to(out)) for f in out.rglob("*"))
    assert left == ["round-1", "round-1/notes.txt"], left
    # symbolic links out of the rounds' folder: refused, their targets untouched
    elsewhere = tmp_path / "elsewhere"
    _run_file(elsewhere / "posterior.nc")
    (out / "round-2").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OutputError, match=r"round-2.* outside its output folder"):
        refine_mod.refine(problem, max_rounds=1, out=out, force=True, directory=d)
    assert (elsewhere / "posterior.nc").is_file()
    (out / "round-2").unlink()
    (r1 / "prepared").symlink_to(d, target_is_directory=True)
    with pytest.raises(OutputError, match=r"round-1/prepared.* outside its output folder"):
        refine_mod.refine(problem, max_rounds=1, out=out, force=True, directory=d)
    assert (d / "manifest.toml").is_file() and list(d.glob("*.json"))
    assert len(started) == 1  # only the run with refine's own files got past the check


def test_refine_resume_continues_the_interrupted_round(
    prepared_dir, tmp_path, monkeypatch, capsys
):
    """Audit: Ctrl-C in `bayesff refine` said "run the same command with --resume", which
    refine did not accept, and the same command without it started again, dropping the
    checkpoint. Now (calibration, trust check and simulation stubbed, round 2 interrupted
    after round 1 asked for a re-simulation): the message names the round and --resume;
    the command without --resume refuses while the checkpoint is there and keeps it;
    with --resume round 2 continues from it (calibrate(resume=True), nothing simulated or
    prepared again, round 1 kept), and the result counts both rounds. --resume with no
    checkpoint is an error before any work."""
    from types import SimpleNamespace

    from bayesff import cli
    from bayesff.errors import Interrupted
    from bayesff.inference.checkpoint import Checkpoint

    root, _ = prepared_dir
    monkeypatch.chdir(root)
    out = tmp_path / "refine"
    calls, prepared_with = [], []

    def calibrate(prob, *, out, force, resume, progress, log, **kw):
        out = Path(out)
        calls.append((out.parent.name, resume))
        out.parent.mkdir(parents=True, exist_ok=True)  # as calibrate's output check does
        ckpt = out.with_name("checkpoint.npz")
        if out.parent.name == "round-2" and not resume:
            Checkpoint(ckpt, {"problem_fingerprint": "x"}).save({"x": np.zeros(2)}, {}, 5)
            raise Interrupted(str(ckpt))
        if resume:
            assert ckpt.is_file()
            ckpt.unlink()  # as calibrate does once the run is written
        out.write_text("a run")
        return SimpleNamespace(path=out, summary=lambda: "summary", diagnostics=None)

    def check_trust(prob, run, **kw):
        return refine_mod.TrustReport(
            states=[],
            reference=dict(TRUTH),
            reference_problem_units={},
            needs_resimulation=run.path.parent.name == "round-1",
            reasons=["stub"],
            n_draws=1,
            max_outside=0.05,
        )

    monkeypatch.setattr(refine_mod, "calibrate", calibrate)
    monkeypatch.setattr(refine_mod, "check_trust", check_trust)
    monkeypatch.setattr(refine_mod, "prepare", lambda *a, **k: prepared_with.append(k))
    argv = ["refine", "models/md.toml", "--rounds", "2", "--out", str(out), "--no-progress"]
    assert cli.main([*argv, "--resume"]) == 2
    assert "no checkpoint of an interrupted refine to resume" in capsys.readouterr().err
    assert cli.main(argv) == 130
    err = capsys.readouterr().err
    assert "interrupted in round 2" in err and "--resume" in err, err
    assert calls == [("round-1", False), ("round-2", False)] and len(prepared_with) == 2
    ckpt = out / "round-2" / "checkpoint.npz"
    assert cli.main(argv) == 2  # the same command again: refused, the checkpoint kept
    assert "pass --resume" in capsys.readouterr().err
    assert ckpt.is_file() and (out / "round-1" / "posterior.nc").is_file()
    assert cli.main([*argv, "--resume"]) == 0
    assert "converged after 2 round(s)" in capsys.readouterr().out
    assert calls[2:] == [("round-2", True)] and len(prepared_with) == 2
    assert (out / "round-1" / "posterior.nc").read_text() == "a run" and not ckpt.exists()


# ------------------------------------------------------------------- no simulation in NUTS


@pytest.mark.slow
def test_calibration_never_simulates(prepared_dir, monkeypatch):
    """With lj_md.simulate made to fail, a calibration of the prepared problem traces,
    samples and post-processes (1 chain x 20 + 20): nothing is simulated at trace time."""
    from bayesff.inference import calibrate

    root, _ = prepared_dir
    problem = load(root)

    def no_simulation(*a, **k):  # pragma: no cover - reached only if a model simulates
        raise AssertionError("simulated while a model was traced")

    monkeypatch.setattr(lj_md, "simulate", no_simulation)
    run = calibrate(problem, progress=False, log=None, chains=1, warmup=20, samples=20)
    assert np.isfinite(run.datatree["posterior"]["sigma"].values).all()


# ------------------------------------------------------------------- the stopping rule


def _report(outside: float, at_mean: float, trained: bool = True) -> refine_mod.TrustReport:
    st = refine_mod.StateTrust(
        target="p", T_K=T_K, rho_per_A3=RHO, trained=trained, ess_min=0.3, edge=0.4,
        min=0.1, median=0.6, below_min=0.0, outside=outside, at_mean=at_mean,
    )  # fmt: skip
    needs = trained and outside > refine_mod.MAX_OUTSIDE
    return refine_mod.TrustReport(
        states=[st], reference=dict(TRUTH), reference_problem_units={}, n_draws=200,
        needs_resimulation=needs, reasons=["x"] if needs else [],
        max_outside=refine_mod.MAX_OUTSIDE,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("outside", "at_mean", "trained", "round_no", "status"),
    [
        (0.01, 0.5, True, 1, "converged"),  # 1 % of the draws outside: inside enough
        (0.50, 0.5, False, 1, "converged"),  # only a held-out state is outside
        (0.30, 0.4, True, 1, "resimulate"),  # far from the reference: move it
        (0.30, 0.4, True, 3, "max_rounds"),  # ... but no rounds left
        (0.30, 0.95, True, 1, "stalled"),  # the reference is at the mean already
    ],
)
def test_stopping_rule(outside, at_mean, trained, round_no, status):
    """refine's decision from the fraction of draws outside the trust region, whether the
    state is trained on, the ESS at the posterior mean and the round (module docstring
    of bayesff.workflows.refine)."""
    d = refine_mod.decide(_report(outside, at_mean, trained), round_no, max_rounds=3)
    assert d.status == status
    assert d.resimulate == (status == "resimulate")


def test_pooled_refine_adds_tail_references_where_it_would_stall():
    """With pooled (molecular) runs a covered mean and uncovered tails is not a stall: the
    loop adds the tail references; without tail references, or unpooled, it stalls as
    before; on the last round it stops."""
    rep = _report(0.30, 0.95)
    rep.tail_references = [dict(TRUTH), dict(TRUTH)]
    rep.tail_molecules = ["n-butane"]
    d = refine_mod.decide(rep, 1, max_rounds=3, pool=True)
    assert d.status == "resimulate" and "tails" in d.reason and "n-butane" in d.reason
    assert refine_mod.decide(rep, 1, max_rounds=3).status == "stalled"
    assert refine_mod.decide(rep, 3, max_rounds=3, pool=True).status == "stalled"
    assert refine_mod.decide(_report(0.30, 0.95), 1, max_rounds=3, pool=True).status == ("stalled")


def test_tail_references_sit_where_the_outside_draws_are():
    """Draws of a correlated 2-d Gaussian (sd 1 and 0.1, 45 degrees), outside where they
    are more than 1.5 sd from the mean along the long axis: one reference per side, at
    the centroid of that side's outside draws (about +-1.9 sd along the long axis:
    E[x | x > 1.5] = phi(1.5) / (1 - Phi(1.5)) = 1.94 for a unit normal), a fixed
    parameter kept at its value; too few outside draws give none."""
    rng = np.random.default_rng(0)
    t = rng.normal(size=4000)
    u = 0.1 * rng.normal(size=4000)
    draws = {"a": 10.0 + (t - u) / np.sqrt(2), "b": 3.0 + (t + u) / np.sqrt(2),
             "c": np.full(4000, 7.0)}  # fmt: skip
    outside = np.abs(t) > 1.5
    refs = refine_mod.tail_references(draws, outside)
    assert len(refs) == 2
    along = sorted((r["a"] - 10.0 + r["b"] - 3.0) / np.sqrt(2) for r in refs)
    np.testing.assert_allclose(along, [-1.94, 1.94], atol=0.08)
    assert all(r["c"] == 7.0 for r in refs)
    one_side = refine_mod.tail_references(draws, t > 1.5)
    assert len(one_side) == 1
    assert refine_mod.tail_references(draws, np.zeros(4000, dtype=bool)) == []


# ------------------------------------------------------------------- the loop


#: Priors of the refine test, centred off the truth so that recovery depends on the data:
#: epsilon/k LogNormal(125 K, 0.05) (the truth 120 K at -0.8 sd), sigma Uniform(3.3, 3.6)
#: (mean 3.45, 1.5 % above the truth 3.4 angstrom). Their central 95 % intervals, [113.3,
#: 137.9] K and [3.3075, 3.5925] angstrom, are 20.4 % and 8.4 % of the truth wide.
OFF_TRUTH = {"epsilon_median": 125.0, "sigma_bounds": (3.3, 3.6)}
#: Bounds on the final posterior's central 95 % interval widths, as fractions of the truth.
MAX_WIDTH95 = {"epsilon": 0.05, "sigma": 0.03}


@pytest.mark.slow
def test_refine_moves_the_reference_to_the_posterior_and_stops(tmp_path, data_run, monkeypatch):
    """Start from a reference at sigma +2 % of the truth (ESS/n ~0.18 at round 1's
    posterior mean, N = 64): round 1's posterior lies outside the trust region, so refine
    re-simulates at its posterior mean; the next round is inside and the loop stops as
    converged within 3 rounds. Each round's run and prepared headers are kept, the
    prepared runs end at the last reference, the truth lies in the final 95 % intervals
    (known-truth recovery), every round reuses one compiled sampler (aux shapes are the
    same), and nothing is simulated inside a calibration.

    The priors are centred off the truth (OFF_TRUTH), so that a posterior that ignored
    the data would fail: the last reference (the round before's posterior mean) must be within 1 %
    (sigma) and 2 % (epsilon) of the truth, where the prior's means are 1.5 % and 4.3 %
    off; measured -0.002 % and +0.05 %, the bounds about 3 posterior sd (0.35 % and
    0.55 %, round 1). The final 95 % intervals must be narrower than MAX_WIDTH95 (5 % and
    3 % of the truth, the prior's 20.4 % and 8.4 %): measured 2.36 % (2.83 K) and 1.43 %
    (0.049 angstrom), so a 2x margin for the Monte Carlo error of the quantiles of 2 x 80
    draws (bulk ESS ~10-70 here). With the data's uncertainties x 1e4 (a scratch copy,
    2026-11-30; the posterior is then the prior) these checks failed: widths 21.9 % and
    7.8 %, the reference 5.1 % and 1.3 % off (the loop also stalled); with the former
    priors centred on the truth, there, the reference (+0.2 % in sigma) and the truth in
    the 95 % intervals passed, the widths (22 % and 5.5 %) failed. ~90 s on the 2 shared
    cores under load 5-7 (2026-11-30)."""
    from bayesff import inference

    far = {**TRUTH, "sigma": 1.02 * SIGMA}
    root = make_dir(tmp_path, data_run, far, priors=OFF_TRUTH)
    monkeypatch.chdir(root)
    state = {"calibrating": False}
    real_simulate, real_calibrate = lj_md.simulate, inference.calibrate

    def simulate(*a, **k):
        assert not state["calibrating"], "simulated inside a calibration"
        return real_simulate(*a, **k)

    def calibrate(*a, **k):
        state["calibrating"] = True
        try:
            return real_calibrate(*a, **k)
        finally:
            state["calibrating"] = False

    monkeypatch.setattr(lj_md, "simulate", simulate)
    monkeypatch.setattr(refine_mod, "calibrate", calibrate)
    inference.clear_cache()
    lines = []
    res = refine_mod.refine("models/md.toml", max_rounds=3, progress=False, log=lines.append)
    print("\n".join(str(x) for x in lines))
    statuses = [r.decision.status for r in res.rounds]
    assert statuses[0] == "resimulate" and res.status == "converged", statuses
    assert res.rounds[0].report.needs_resimulation
    assert res.rounds[0].reference["sigma"] == pytest.approx(far["sigma"])
    # the last reference is the posterior mean of the round before: the data's, not the prior's
    assert res.reference["sigma"] == pytest.approx(SIGMA, rel=0.01)
    assert res.reference["epsilon"] == pytest.approx(TRUTH["epsilon"], rel=0.02)
    assert inference.cache_info()["misses"] == 1  # one kernel for every round
    for r in res.rounds:
        assert r.run_path == Path("runs/md_small/refine") / f"round-{r.round}" / "posterior.nc"
        assert (
            r.run_path.is_file() and (r.run_path.parent / "prepared" / "manifest.toml").is_file()
        )
    head = prepared.read_header(next(Path("prepared/md_small").glob("*.json")))
    assert head["reference"] == pytest.approx(res.reference)
    assert head["origin"].startswith(f"bayesff refine round {len(res.rounds) - 1}")
    from bayesff import runfile

    post = runfile.read(res.run_path)["posterior"]
    for name, truth in (("epsilon", EPS_K), ("sigma", SIGMA)):
        lo, hi = np.quantile(post[name].values.ravel(), [0.025, 0.975])
        assert lo < truth < hi, (name, lo, hi)
        assert hi - lo < MAX_WIDTH95[name] * truth, (name, lo, hi, (hi - lo) / truth)
    # a plain calibration now loads the refined runs
    (p_target,) = [t for t in Problem.from_toml("models/md.toml").targets if t.name == "p"]
    assert p_target.aux["reference"][0][1] == pytest.approx(res.reference["sigma"])


def test_numeric_core_does_not_import_workflow_layers():
    """No module of bayesff/observables or bayesff/potentials imports the layers above the
    forward models (model, inference, problem, targets, prepared, workflows, report,
    transferability, cli), read from the source (ast), so the MD targets stay pure."""
    import ast

    above = {"model", "inference", "problem", "targets", "prepared", "workflows", "report",
             "transferability", "cli"}  # fmt: skip
    pkg = Path(__file__).resolve().parent.parent / "bayesff"
    bad = []
    for sub in ("observables", "potentials"):
        for f in sorted((pkg / sub).glob("*.py")):
            for node in ast.walk(ast.parse(f.read_text())):
                names = []
                if isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                for n in names:
                    parts = n.split(".")
                    if parts[0] == "bayesff" and len(parts) > 1 and parts[1] in above:
                        bad.append(f"{f.name}: {n}")
    assert not bad, bad
