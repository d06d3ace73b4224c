"""The HTML report: files, summary.json schema, numbers on the page, and the page in a browser.

A small real run (LJ argon against B2, 2 chains x 150 draws) is built once per
module; the report of it is checked for its schema, for every transferability
number being on the page with its exact value, and, in headless Chromium, for
rendering with every image decoded and no script or console error. Chromium is
Debian's ``chromium`` package, installed by ``scripts/ensure-chromium.sh`` (CI
runs it); without it the browser tests skip and say how to install it.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from bayesff import runfile
from bayesff.inference import calibrate
from bayesff.io import OutputError
from bayesff.problem import Problem
from bayesff.report import ReportError, SummaryError, report, validate_summary
from bayesff.report.summary import SCHEMA_ID

from support import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed; install it with `bash scripts/ensure-chromium.sh` "
    "(as root; CI does this) or `sudo apt-get install chromium`",
)

#: The page must stay light enough to mail around and open quickly (docs/architecture.md, Files).
MAX_PAGE_BYTES = 3_000_000


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_file(tmp_path_factory) -> Path:
    """A real run file: LJ argon against B2, 2 chains x (150 warm-up + 150 draws)."""
    out = tmp_path_factory.mktemp("run") / "posterior.nc"
    problem = Problem.from_toml(ROOT / "models" / "argon_lj_b2.toml")
    calibrate(problem, out=out, chains=2, warmup=150, samples=150, progress=False, log=None)
    return out


@pytest.fixture(scope="module")
def page_file(run_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reports") / "argon"
    return report(run_file, out, log=None)


@pytest.fixture(scope="module")
def summary(page_file) -> dict:
    return json.loads((page_file.parent / "summary.json").read_text())


class _Spans(HTMLParser):
    """Collects ``data-ref`` numbers, ``<tr>`` classes and ``<img>`` tags of a page."""

    def __init__(self):
        super().__init__()
        self.refs: dict[str, tuple[str, str]] = {}  # ref -> (data-value, shown text)
        self.rows: dict[str, str] = {}  # data-state -> class
        self.images: list[dict] = []
        self._open: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-state" in a:
            self.rows[a["data-state"]] = a.get("class", "")
        if tag == "img":
            self.images.append(a)
        if tag == "span":
            ref = a.get("data-ref")
            if ref is not None:
                assert ref not in self.refs, f"data-ref {ref} appears twice on the page"
                self.refs[ref] = (a["data-value"], "")
            self._open.append(ref)

    def handle_endtag(self, tag):
        if tag == "span" and self._open:
            self._open.pop()

    def handle_data(self, data):
        ref = self._open[-1] if self._open else None
        if ref is not None:
            value, text = self.refs[ref]
            self.refs[ref] = (value, text + data)


@pytest.fixture(scope="module")
def page(page_file) -> _Spans:
    p = _Spans()
    p.feed(page_file.read_text(encoding="utf-8"))
    return p


def _leaves(x, prefix: str):
    """(path, value) of every number below x (booleans are not numbers)."""
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _leaves(v, f"{prefix}.{k}")
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _leaves(v, f"{prefix}.{i}")
    elif isinstance(x, int | float) and not isinstance(x, bool):
        yield prefix, x


def _resolve(d, path: str):
    for part in path.split("."):
        d = d[int(part)] if isinstance(d, list) else d[part]
    return d


def _shown_matches(text: str, value) -> bool:
    """The shown text is the value, rounded (``3.2 %`` for fractions shown as percent)."""
    if value is None:
        return text.strip() == "-"
    t = text.strip().replace("−", "-")
    scale = 1.0
    if t.endswith("%"):
        t, scale = t[:-1].strip(), 0.01
    shown = float(t) * scale
    # At least three significant digits are shown: half a unit of the third digit.
    return math.isclose(shown, value, rel_tol=5e-3, abs_tol=5e-5 * max(1.0, scale * 100))


# --------------------------------------------------------------------------------------------
# Files and summary.json
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_report_writes_page_and_summary(page_file, summary, run_file):
    report = page_file
    assert report.name == "index.html" and report.is_file()
    assert (report.parent / "summary.json").is_file()
    assert report.stat().st_size < MAX_PAGE_BYTES
    text = report.read_text(encoding="utf-8")
    # Self-contained: nothing is fetched (links to papers are fine, they load nothing).
    assert not re.search(r'<(script|img|link)[^>]+(src|href)="(https?:)?//', text)
    assert "<link" not in text
    assert summary["schema"] == SCHEMA_ID
    assert summary["run"]["path"] == str(run_file)
    assert summary["problem"]["name"] == "argon_lj_b2"
    assert [p["name"] for p in summary["parameters"]] == ["epsilon", "sigma", "tau_B2"]
    assert {p["name"]: p["unit"] for p in summary["parameters"]}["epsilon"] == "K"
    assert all(f["error"] is None for f in summary["figures"]), summary["figures"]
    assert summary["comparison"] is None
    # The potential is named, with its source (issue 15 item 5).
    pot = summary["problem"]["potential"]
    assert pot["name"] == "lennard_jones" and pot["module"] == "bayesff.potentials.pair"
    assert "Potential: <strong>lennard_jones</strong>" in text
    assert "bayesff.potentials.pair:lennard_jones" in text
    # Every data row is accounted for: 27 trained + 15 held out = the 42 rows of b2.csv.
    b2 = summary["targets"]["B2"]
    assert (b2["n_train"], b2["n_holdout"], b2["excluded_rows"]) == (27, 15, 0)
    # No temporary folder is left beside the report.
    assert [p.name for p in report.parent.parent.iterdir()] == [report.parent.name]


@pytest.mark.slow
def test_summary_matches_schema(summary):
    validate_summary(summary)
    tr = summary["transferability"]
    assert {s["group"] for s in tr["states"]} == {"low T", "high T"}
    assert len(tr["states"]) == 15  # 85-105 K (5) and 520-700 K (10) in data/argon/b2.csv


@pytest.mark.slow
@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (lambda d: d.pop("parameters"), "missing required key 'parameters'"),
        (
            lambda d: d["transferability"]["states"][0].update(verdict="maybe"),
            "summary.transferability.states[0].verdict",
        ),
        (
            lambda d: d["transferability"]["states"][2].update(pi90=[1.0]),
            "summary.transferability.states[2].pi90: expected at least 2 items",
        ),
        (lambda d: d["parameters"][1].update(mean=float("nan")), "summary.parameters[1].mean"),
        (lambda d: d["run"].update(chains=True), "summary.run.chains: expected integer"),
        (
            lambda d: d["transferability"]["groups"][0].update(coverage90=1.5),
            "summary.transferability.groups[0].coverage90: expected <= 1",
        ),
        (lambda d: d.update(schema="something else"), "summary.schema"),
    ],
)
def test_broken_summary_fails_validation(summary, break_it, expected):
    broken = copy.deepcopy(summary)
    break_it(broken)
    with pytest.raises(SummaryError, match=re.escape(expected)):
        validate_summary(broken)


@pytest.mark.slow
def test_every_transferability_number_is_on_the_page(summary, page):
    """Each number of the transferability section is shown, with its exact value attached."""
    tr = summary["transferability"]
    missing, wrong = [], []
    for path, value in _leaves(tr, "transferability"):
        # Each state and training row repeats its target's tolerance; it is shown once per
        # held-out group (transferability.groups.*.tolerance) and in the problem table.
        if re.match(r"transferability\.(states\.\d+|training\.\w+)\.tolerance\.", path):
            continue
        if path not in page.refs:
            missing.append(path)
            continue
        data_value, shown = page.refs[path]
        if json.loads(data_value) != value or not _shown_matches(shown, value):
            wrong.append((path, value, data_value, shown))
    assert not missing, f"not on the page: {missing}"
    assert not wrong, f"shown wrongly: {wrong}"
    n_state_numbers = sum(1 for p, _ in _leaves(tr["states"], "s"))
    assert n_state_numbers >= 15 * 14  # the test looked at something


@pytest.mark.slow
def test_every_number_on_the_page_is_in_the_summary(summary, page):
    """The converse: each number shown is the summary.json value at its data-ref path."""
    assert len(page.refs) > 300
    for ref, (data_value, shown) in page.refs.items():
        value = _resolve(summary, ref)
        assert json.loads(data_value) == value, ref
        if ref.startswith(("parameters.", "run.")) and not ref.endswith(("rhat", "ess_bulk")):
            continue  # formatted to the posterior's precision or as integers; value checked
        assert _shown_matches(shown, value), (ref, value, shown)


@pytest.mark.slow
def test_states_are_coloured_by_verdict(summary, page):
    for i, st in enumerate(summary["transferability"]["states"]):
        assert page.rows[str(i)] == f"v-{st['verdict']}"


@pytest.mark.slow
def test_page_has_the_sections_and_citations(page_file, summary):
    text = page_file.read_text(encoding="utf-8")
    for anchor in ("problem", "data", "run", "diagnostics", "posterior", "predictive"):
        assert f'id="{anchor}"' in text
    assert 'id="transferability"' in text and 'id="citations"' in text
    for doi in ("10.1007/s11222-016-9696-4", "10.1214/20-BA1221", "10.21105/joss.01143"):
        assert doi in text
    assert "arXiv:1912.11554" in text and "1593" in text
    # the data's own reference, from the run file's provenance
    assert "10.1063/1.556037" in summary["citations"]["data"][0]["dois"]
    assert "https://doi.org/10.1063/1.556037" in text
    for key in ("marginals", "prior_posterior", "pair", "trace", "rank", "predictive_B2"):
        assert f'id="fig-{key}"' in text


@pytest.mark.slow
def test_pair_plot_of_many_parameters_is_drawn_with_the_potentials_first(run_file):
    """A run with more latent variables than the pair grid holds (the joint Mie argon run
    with a GP-discrepancy S(q) has 7: arviz-plots refused its 49 panels) gets a pair plot
    of at most 6, the potential's parameters first, and the caption names the rest.

    Reference: arviz-plots' limit of 40 panels (rcParams plot.max_subplots); the run's
    own parameter list (epsilon, sigma).
    """
    from bayesff import runfile
    from bayesff.report import plots

    dt = runfile.read(run_file)
    post = dt["posterior"].to_dataset()
    for i in range(6):  # extra nuisance-like latents, placed before the potential's
        post = post.assign({f"aux_{i}": post["sigma"] * (1.0 + i)})
        post[f"aux_{i}"].attrs["units"] = "1"
    post = post[[*(f"aux_{i}" for i in range(6)), *dt["posterior"].data_vars]]
    dt["posterior"] = post
    names = plots.pair_parameters(dt)
    assert names[:2] == ["epsilon", "sigma"] and len(names) == plots.MAX_PAIR
    with plots.agg_backend():
        fig = plots._pair(dt, len(names))
    assert fig.get("png") and not fig.get("error")
    assert "Not shown" in fig["caption"] and "aux_5" in fig["caption"]


def test_report_is_replaced_and_other_files_are_kept(run_file, tmp_path):
    """A new report replaces index.html and summary.json and nothing else: a study's
    table in the same folder survives (nothing is silently lost), and no temporary
    file is left behind."""
    out = tmp_path / "r"
    report(run_file, out, log=None)
    (out / "index.html").write_text("an older page")
    (out / "comparison.md").write_text("a study's table")
    lines = []
    index = report(run_file, out, log=lines.append)
    assert index == out / "index.html"
    assert "an older page" not in index.read_text()
    assert (out / "comparison.md").read_text() == "a study's table"
    assert sorted(p.name for p in out.iterdir()) == ["comparison.md", "index.html", "summary.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]
    assert lines and all(isinstance(x, str) for x in lines)


@pytest.mark.slow
def test_report_of_a_run_in_memory(run_file, tmp_path):
    """report() takes a DataTree (or a calibrate() result) as well as a path; a run that
    was never written has no file to name."""
    from types import SimpleNamespace

    dt = runfile.read(run_file)
    for run in (dt, SimpleNamespace(datatree=dt, path=None)):
        index = report(run, tmp_path / "mem")
        s = json.loads((index.parent / "summary.json").read_text())
        assert s["run"]["path"] == "" and s["run"]["sha256"] == ""
        assert s["problem"]["name"] == "argon_lj_b2"
    s = json.loads((report(SimpleNamespace(datatree=dt, path=run_file), tmp_path / "f").parent
                    / "summary.json").read_text())  # fmt: skip
    assert s["run"]["path"] == str(run_file)


@pytest.mark.slow
def test_default_out_dir_is_reports_name(run_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    index = report(run_file, log=None)
    assert index == Path("reports") / "argon_lj_b2" / "index.html"
    assert (tmp_path / index).is_file()


def _crafted(run_file, tmp_path, name="crafted.nc", **attrs):
    """A copy of the run file with root attributes changed (None deletes one)."""
    dt = runfile.read(run_file)
    for k, v in attrs.items():
        if v is None:
            del dt.attrs[k]
        else:
            dt.attrs[k] = v
    return runfile.write(dt, tmp_path / name, force=True)


@pytest.mark.slow
def test_unversioned_and_future_run_files_are_refused(run_file, tmp_path):
    old = _crafted(run_file, tmp_path, "old.nc", bayesff_runfile_version=None)
    with pytest.raises(runfile.RunFileError, match="no bayesff_runfile_version"):
        report(old, tmp_path / "out")
    future = _crafted(run_file, tmp_path, "future.nc", bayesff_runfile_version=99)
    with pytest.raises(runfile.RunFileError) as e:
        report(future, tmp_path / "out")
    msg = str(e.value)
    assert "\n" not in msg and str(future) in msg
    assert "schema version 99 is newer than this bayesff reads (1); upgrade bayesff" in msg
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_tempered_run_is_named_with_its_ladder(run_file, page_file, tmp_path):
    """The page said "NUTS" for every run. A run of sampler = "tempered" is named as
    such, with its ladder, its neighbours' exchange acceptance and each replica's leapfrog
    steps (the run file's attributes, docs/runfile.md), each number from summary.json;
    a NUTS run's page has no replicas row and its summary no ladder."""
    tempered = _crafted(
        run_file, tmp_path, "tempered.nc", sampler="tempered", temperatures=4,
        max_temperature=10.0, swap_acceptance=np.array([0.2, 0.43, 0.53]),
        replica_leapfrog_steps=np.array([162000, 151000, 140000, 139000]),
    )  # fmt: skip
    index = report(tempered, tmp_path / "out", log=None)
    s = json.loads((index.parent / "summary.json").read_text())
    validate_summary(s)
    assert s["run"]["sampler"] == "tempered"
    assert s["run"]["tempering"] == {
        "temperatures": 4,
        "max_temperature": 10.0,
        "swap_acceptance": [0.2, 0.43, 0.53],
        "replica_leapfrog_steps": [162000, 151000, 140000, 139000],
    }
    text = index.read_text(encoding="utf-8")
    assert "<td>NUTS within parallel tempering, " in text
    page = _Spans()
    page.feed(text)
    for ref in ("run.tempering.swap_acceptance.2", "run.tempering.replica_leapfrog_steps.0",
                "run.tempering.temperatures", "run.tempering.max_temperature"):  # fmt: skip
        assert json.loads(page.refs[ref][0]) == _resolve(s, ref), ref
    assert page.refs["run.tempering.replica_leapfrog_steps.0"][1] == "162,000"
    nuts = json.loads((page_file.parent / "summary.json").read_text())
    assert nuts["run"]["tempering"] is None
    assert "<td>NUTS, " in page_file.read_text(encoding="utf-8")
    assert "<th>replicas</th>" not in page_file.read_text(encoding="utf-8")


def test_missing_run_file_is_an_error(tmp_path):
    with pytest.raises(runfile.RunFileError, match="run file not found"):
        report(tmp_path / "nope.nc", tmp_path / "out", log=None)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_truncated_or_foreign_files_give_one_line(run_file, tmp_path):
    """Damaged input is a one-line RunFileError naming the file, never a traceback
    from h5py (issue 16 item 6)."""
    data = run_file.read_bytes()
    truncated = tmp_path / "truncated.nc"
    truncated.write_bytes(data[: len(data) // 3])
    text = tmp_path / "notes.nc"
    text.write_text("this is not a run file\n")
    empty = tmp_path / "empty.nc"
    empty.write_bytes(b"")
    for path, what in ((truncated, "truncated or damaged"), (text, "not a run file"),
                       (empty, "not a run file")):  # fmt: skip
        with pytest.raises(runfile.RunFileError, match=what) as e:
            report(path, tmp_path / "out")
        assert "\n" not in str(e.value) and str(path) in str(e.value)
    with pytest.raises(runfile.RunFileError, match="not a run file"):
        report(run_file, tmp_path / "out", compare=[text])
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_problem_name_cannot_move_the_report_out_of_reports(run_file, tmp_path, monkeypatch):
    """A run file is data from elsewhere: its problem name must not choose where bayesff
    writes (issue 16 item 2). '../../..' is refused before anything is written; a
    reports/NAME that is a symbolic link out of reports/ is refused too."""
    work = tmp_path / "a" / "b" / "work"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    for bad in ("../../..", "..", ".", "a/b", ""):
        crafted = _crafted(run_file, tmp_path, "crafted.nc", problem_name=bad)
        with pytest.raises(ReportError, match="cannot name a report folder"):
            report(crafted)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["crafted.nc"]
    assert not (work / "reports").exists()
    # a symbolic link out of reports/ is followed and refused
    (work / "reports").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (work / "reports" / "argon_lj_b2").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OutputError, match="outside its output folder"):
        report(run_file)
    assert list((tmp_path / "elsewhere").iterdir()) == []
    # with --out given, the report goes exactly there, whatever the name says
    index = report(_crafted(run_file, tmp_path, problem_name="../../.."), work / "mine")
    assert index == work / "mine" / "index.html" and index.is_file()


@pytest.mark.slow
def test_relative_plus_absolute_tolerance_and_excluded_rows_are_shown(run_file, summary, tmp_path):
    """A tolerance with both parts (|f - y| <= abs + rel |y|) and data rows that were
    neither trained on nor held out are shown on the page with their numbers."""
    dt = runfile.read(run_file)
    node = dt["targets"]["B2"]
    node.attrs.update(
        tolerance_abs=2.0, excluded_rows=2, excluded_lines=["line 44: a duplicate of line 43"]
    )
    path = runfile.write(dt, tmp_path / "tol.nc")
    index = report(path, tmp_path / "rep")
    s = json.loads((tmp_path / "rep" / "summary.json").read_text())
    validate_summary(s)
    assert s["tolerance"]["B2"] == {"rel": 0.05, "abs": 2.0}
    assert s["targets"]["B2"]["excluded_rows"] == 2
    text = index.read_text(encoding="utf-8")
    p = _Spans()
    p.feed(text)
    assert json.loads(p.refs["tolerance.B2.abs"][0]) == 2.0
    assert json.loads(p.refs["transferability.groups.0.tolerance.abs"][0]) == 2.0
    assert "line 44: a duplicate of line 43" in text
    assert "2 data row(s) neither trained on nor held out" in text
    basis = s["transferability"]["groups"][0]["verdict_basis"]
    assert "tolerance ±(2 cm^3/mol + 5 %)" in basis
    # the states' probabilities use the wider band: never below those of rel alone
    wide = [st["p_within_tolerance"] for st in s["transferability"]["states"]]
    narrow = [st["p_within_tolerance"] for st in summary["transferability"]["states"]]
    assert all(w >= n for w, n in zip(wide, narrow, strict=True)) and wide != narrow


@pytest.mark.slow
def test_model_comparison_table(run_file, tmp_path):
    other = tmp_path / "other" / "posterior.nc"
    other.parent.mkdir()
    shutil.copy(run_file, other)
    index = report(run_file, tmp_path / "cmp", compare=[other], log=None)
    s = json.loads((index.parent / "summary.json").read_text())
    validate_summary(s)
    c = s["comparison"]
    assert len(c["runs"]) == 2 and len(set(c["runs"])) == 2
    a, b = c["runs"]
    assert c["loo"][a]["elpd"] == c["loo"][b]["elpd"]  # the same draws
    text = index.read_text(encoding="utf-8")
    assert 'id="comparison"' in text and "PSIS-LOO" in text
    p = _Spans()
    p.feed(text)
    for name in c["runs"]:
        ref = f"comparison.loo.{name}.elpd"
        assert json.loads(p.refs[ref][0]) == c["loo"][name]["elpd"]


def test_validator_rejects_non_finite_and_bool_numbers():
    schema = {
        "type": "object",
        "required": ["x", "n"],
        "properties": {"x": {"type": "number"}, "n": {"type": "integer"}},
    }
    validate_summary({"x": 1.5, "n": 2}, schema)
    for bad, where in (
        ({"x": float("inf"), "n": 2}, "summary.x"),
        ({"x": 1.0, "n": False}, "summary.n"),
        ({"x": 1.0}, "missing required key 'n'"),
        ({"x": "1", "n": 1}, "summary.x: expected number, found str"),
    ):
        with pytest.raises(SummaryError, match=re.escape(where)):
            validate_summary(bad, schema)


# --------------------------------------------------------------------------------------------
# The page in headless Chromium
# --------------------------------------------------------------------------------------------


def _chromium(url: str, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={tmp / 'chromium-profile'}",
        "--virtual-time-budget=5000",
        "--enable-logging=stderr",
        "--v=0",
        *args,
        url,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)


def _body_attrs(dom: str) -> dict[str, str]:
    m = re.search(r"<body([^>]*)>", dom)
    assert m, "no <body> in the dumped DOM: the page did not render"
    return dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(1)))


def _page_console_lines(stderr: str) -> list[str]:
    """Console output of the page (chromium logs it as ``...:CONSOLE...] "msg", source: ...``)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def _render(index: Path, tmp: Path) -> tuple[dict[str, str], list[str]]:
    r = _chromium(index.resolve().as_uri(), tmp, "--dump-dom")
    assert r.returncode == 0, r.stderr[-2000:]
    return _body_attrs(r.stdout), _page_console_lines(r.stderr)


@pytest.mark.slow
@needs_chromium
def test_page_renders_in_chromium_with_all_images_and_no_errors(page_file, summary, tmp_path):
    report = page_file
    attrs, console = _render(report, tmp_path)
    # every image of the page: the report's figures and the sensitivity section's
    n_fig = report.read_text().count("<img ")
    assert n_fig >= len(summary["figures"]) > 0
    assert attrs.get("data-render-check") == "done", attrs  # the load handler ran
    assert attrs.get("data-images-ok") == f"{n_fig}/{n_fig}", attrs
    assert attrs.get("data-errors") == "0", attrs.get("data-error-messages")
    assert not console, console

    shot = tmp_path / "page.png"
    r = _chromium(
        report.resolve().as_uri(), tmp_path, "--window-size=1280,4000", f"--screenshot={shot}"
    )
    assert r.returncode == 0 and shot.is_file(), r.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(shot) as im:
        assert im.size == (1280, 4000)
        # A blank or error page has a handful of colours; figures and tables have thousands.
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 500, len(colours or ())
    assert shot.stat().st_size > 100_000


@pytest.mark.slow
@needs_chromium
def test_browser_check_catches_broken_images_and_errors(page_file, tmp_path):
    """Negative control: the same page with a missing image and a script error fails the check."""
    bad = tmp_path / "bad.html"
    text = page_file.read_text(encoding="utf-8")
    bad.write_text(
        text.replace(
            "</body>",
            '<img src="missing.png" alt="missing"><script>notDefined();</script></body>',
        ),
        encoding="utf-8",
    )
    attrs, console = _render(bad, tmp_path)
    ok, total = attrs["data-images-ok"].split("/")
    assert int(ok) == int(total) - 1
    assert attrs["data-images-failed"] == "missing"
    assert int(attrs["data-errors"]) >= 2  # the failed load and the ReferenceError
    assert any("notDefined" in line for line in console)


@needs_chromium
def test_ensure_chromium_script_finds_it():
    r = subprocess.run(
        ["bash", str(ROOT / "scripts" / "ensure-chromium.sh")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ},
    )
    assert r.returncode == 0, r.stderr
    assert "ensure-chromium: found" in r.stdout


@pytest.mark.slow
def test_candidates_table_shows_the_deterministic_rule(tmp_path):
    """The kappa_T state study's report shows each candidate's pass/fail per state
    beside the posterior's P(within tolerance) (issue: "by the deterministic rule
    and by its Bayesian version"); the failing cells are those where the
    relative error exceeds 5 % (tests/test_kappa_study.py: low T, and low T with
    high density, for epsilon +/- 5 %)."""
    run = tmp_path / "kappa.nc"
    calibrate(
        Problem.from_toml(ROOT / "models" / "lj_kappa_states.toml"),
        out=run,
        chains=2,
        warmup=150,
        samples=150,
        progress=False,
        log=None,
    )
    page = report(run, tmp_path / "rep", log=None).read_text()
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text())
    validate_summary(summary)
    assert "Candidate parameter sets: the deterministic rule" in page
    table = page[page.index('class="candidates"') :]
    table = table[: table.index("</table>")]
    cands = summary["transferability"]["candidates"]
    assert [c["name"] for c in cands] == ["ground truth", "epsilon +5 %", "epsilon -5 %"]
    n_fail = sum(st["verdict"] == "fail" for c in cands for st in c["states"])
    assert table.count(" fail</td>") == n_fail > 0
    for c in cands:
        for st in c["states"]:
            assert (abs(st["rel_error"]) > 0.05) == (st["verdict"] == "fail")
            assert st["verdict"] == "pass" or st["group"] != "training"


@pytest.mark.slow
def test_every_figure_renders_for_parameters_in_kj_per_mol(tmp_path):
    """Units with '/' (kJ/mol) once broke every arviz-plots figure (xarray forbids '/'
    in variable names); the butane RB problem has five kJ/mol parameters and a
    three-column environment."""
    run = tmp_path / "butane.nc"
    calibrate(
        Problem.from_toml(ROOT / "models" / "butane_rb.toml"),
        out=run,
        chains=2,
        warmup=100,
        samples=100,
        progress=False,
        log=None,
    )
    report(run, tmp_path / "rep", log=None)
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text())
    assert summary["figures"], "no figures"
    assert [f.get("error") for f in summary["figures"]] == [None] * len(summary["figures"])


def test_multi_column_environment_is_plotted_against_the_column_that_varies():
    # S(q) at one state: T and rho are constant, q varies -> the x axis is q; two varying
    # columns -> no single axis (row order).
    from types import SimpleNamespace

    import numpy as np

    from bayesff.report.summary import predictive_axis

    n = 5
    env = {
        "T_K": np.full(n, 85.0),
        "rho_per_A3": np.full(n, 0.02125),
        "q_inv_angstrom": np.linspace(1.0, 3.0, n),
    }
    units = {"T_K": "K", "rho_per_A3": "1/angstrom^3", "q_inv_angstrom": "1/angstrom"}
    train = SimpleNamespace(env=env, env_units=units)
    held = SimpleNamespace(
        env={**env, "q_inv_angstrom": np.linspace(3.5, 5.0, n)}, env_units=units
    )
    assert predictive_axis([train, held]) == ("q_inv_angstrom", "q [1/angstrom]")
    varying_t = SimpleNamespace(env={**env, "T_K": np.linspace(80.0, 90.0, n)}, env_units=units)
    col, label = predictive_axis([varying_t, None])
    assert col is None and label.startswith("row order")
    # one column: that column, whether or not it varies
    one = SimpleNamespace(env={"T_K": np.full(n, 85.0)}, env_units={"T_K": "K"})
    assert predictive_axis([one]) == ("T_K", "T [K]")


def test_gp_weights_are_left_out_of_the_parameter_figures():
    # arviz-plots refuses > 40 panels: a GP potential's 24+ weights would break the pair plot
    import numpy as np
    import xarray as xr

    from bayesff.report.plots import MAX_PLOTTED, shown_parameters

    names = ["epsilon", "sigma", "amplitude", "length_scale"] + [f"w_{i:02d}" for i in range(24)]
    post = xr.Dataset({n: (("chain", "draw"), np.zeros((1, 3))) for n in names})
    shown = shown_parameters(xr.DataTree.from_dict({"posterior": post}))
    assert shown == ["epsilon", "sigma", "amplitude", "length_scale"]
    few = xr.Dataset({n: (("chain", "draw"), np.zeros((1, 3))) for n in names[:MAX_PLOTTED]})
    assert shown_parameters(xr.DataTree.from_dict({"posterior": few})) == names[:MAX_PLOTTED]


def test_a_held_out_state_where_a_draw_has_no_value_is_reported_not_refused(tmp_path):
    """A forward model gives no value (NaN) for some draws at some held-out state when they
    lie outside its EOS's range or above the model's Tc (a 2CLJQ trained on B2 and asked for
    the liquid: docs/atlas.md). The report must still be written, figures included. The
    state's means and intervals are over the draws with a value, the fraction without one is
    in summary.json and in the page's "no value" column (2026-11-29: before, one NaN draw
    made them null and the state outside its intervals, so a verdict turned on whether one
    rare draw of a thousand failed), and the state counts as outside the tolerance for that
    draw. Before 2026-11-27 the schema refused the null and report() raised SummaryError.
    Values by hand: 200 draws, one NaN at T = 100 K; a state with no value at any draw
    keeps null means."""
    import numpy as np
    from handmade_runs import build_run, target

    T = np.array([200.0, 300.0, 100.0, 150.0])
    y = np.array([-50.0, -20.0, -180.0, -90.0])
    t = target(
        "B2", "second_virial", {"T_K": T}, y, u=0.1,
        train=np.array([True, True, False, False]),
        holdout={"low T": np.array([False, False, True, True])},
        file_units={"T_K": "K"},
    )  # fmt: skip
    s = 200
    z = np.linspace(-1.0, 1.0, s)
    held_model = np.ones((s, 2)) * y[2:]
    held_model[3, 0] = np.nan
    held_rep = held_model + z[:, None]
    draws = {
        "B2": {
            "train": {"model": np.ones((s, 2)) * y[:2], "rep": y[:2] + z[:, None],
                      "ll": -0.5 * np.c_[z, z[::-1]] ** 2},
            "holdout": {"model": held_model, "rep": held_rep},
        }
    }  # fmt: skip
    dt = build_run([t], draws, tolerance={"B2": {"rel": 0.05}})
    index = report(dt, tmp_path / "nan")
    summary = json.loads((index.parent / "summary.json").read_text())
    validate_summary(summary)
    states = {st["env"]["T_K"]: st for st in summary["transferability"]["states"]}
    low = states[100.0]
    assert low["model_mean"] == pytest.approx(-180.0)
    assert low["pred_mean"] == pytest.approx(-180.0 - z[3] / 199)  # the other 199 draws
    assert low["fraction_no_value"] == pytest.approx(1 / 200)
    assert states[150.0]["fraction_no_value"] == 0.0
    assert low["p_within_tolerance"] == pytest.approx(199 / 200)  # NaN: outside
    # the interval holds 90 % of all 200 draws: 0.9 / 0.995 of the 199 with a value
    finite = held_rep[np.isfinite(held_rep[:, 0]), 0]
    q = 0.9 / (1 - 1 / 200)
    assert low["pi90"] == pytest.approx(list(np.quantile(finite, [(1 - q) / 2, (1 + q) / 2])))
    predictive = [f for f in summary["figures"] if f["key"] == "predictive_B2"]
    assert len(predictive) == 1 and predictive[0]["error"] is None, predictive
    page = index.read_text()
    i = [st["env"]["T_K"] for st in summary["transferability"]["states"]].index(100.0)
    assert f'data-ref="transferability.states.{i}.fraction_no_value"' in page
    assert ">0.5 %<" in page

    held_model[:, 0] = np.nan  # no value at any draw: null means and intervals, '-'
    draws["B2"]["holdout"] = {"model": held_model, "rep": held_model + z[:, None]}
    index = report(build_run([t], draws, tolerance={"B2": {"rel": 0.05}}), tmp_path / "all")
    summary = json.loads((index.parent / "summary.json").read_text())
    validate_summary(summary)
    low = next(st for st in summary["transferability"]["states"] if st["env"]["T_K"] == 100.0)
    assert low["pred_mean"] is None and low["pi90"] == [None, None]
    assert low["fraction_no_value"] == 1.0 and not low["inside90"]
    shown = f'data-ref="transferability.states.{i}.pred_mean" data-value="null">-<'
    assert shown in index.read_text()


def test_a_one_chain_run_says_why_it_has_no_rank_plot():
    """A rank plot compares chains (Vehtari et al. 2021): with one chain arviz-plots raised
    "_mtc_c requires at least 2 chains", which the page showed as the figure's error. Now
    the page says the plot is not drawn and why; the other figures are drawn."""
    import numpy as np
    from handmade_runs import build_run, target

    from bayesff.report.plots import make_figures

    t = target("B2", "second_virial", {"T_K": np.array([300.0, 400.0])}, np.array([-10.0, -5.0]))
    rows = np.zeros((50, 2))
    dt = build_run([t], {"B2": {"train": {"model": rows, "rep": rows, "ll": rows}}})
    figs = {
        f["key"]: f for f in make_figures(dt, {"predictive": {}, "targets": {}, "tolerance": {}})
    }
    assert figs["rank"]["error"].startswith("not drawn: a rank plot compares chains"), figs
    assert all(f.get("error") is None for k, f in figs.items() if k != "rank")
