"""Reliability, round two (issue 28): faults that slipped through the first round.

Each test here failed on the code before its fix.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap

from bayesff.cli import main

from support import ARGON_B2, PROBLEM_TOML, write_manifest

# A child process whose files may not grow past 64 kB: writes beyond that fail with EFBIG,
# as they fail with ENOSPC on a full disk (SIGXFSZ ignored, so the write returns an error
# instead of killing the process). HDF5 writing a 3 MB run file through h5py meets the
# limit inside its own close, which crashed the process (exit -11) before the fix.
_FULL_DISK_CHILD = textwrap.dedent(
    """
    import os, resource, signal, sys
    import numpy as np, xarray as xr
    from bayesff import runfile
    from bayesff.runfile import RunFileError

    out = os.path.join(sys.argv[1], "posterior.nc")
    with open(out, "wb") as fh:
        fh.write(b"previous good run")
    dt = xr.DataTree.from_dict(
        {"posterior": xr.Dataset({"x": (("chain", "draw"), np.random.rand(4, 100_000))})}
    )
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64_000, 64_000))
    try:
        runfile.write(dt, out, force=True)
    except RunFileError as e:
        print("ERROR", e)
    print("FILES", sorted(os.listdir(sys.argv[1])))
    with open(out, "rb") as fh:
        print("OLD", fh.read() == b"previous good run")
    """
)


def test_a_disk_that_fills_while_hdf5_writes_leaves_no_temporary_file(tmp_path):
    """A real write failure (file-size limit, the same errno path as a full disk), not an
    injected exception: a clear one-line error, the old run file untouched, no
    ``.posterior.nc.<pid>.tmp`` left, and the process lives on (issue 28)."""
    res = subprocess.run(
        [sys.executable, "-c", _FULL_DISK_CHILD, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, (res.returncode, res.stderr[-2000:])
    lines = res.stdout.splitlines()
    error = [ln for ln in lines if ln.startswith("ERROR")]
    assert (
        len(error) == 1 and "posterior.nc: cannot write the run file: File too large" in error[0]
    )
    assert "FILES ['posterior.nc']" in lines
    assert "OLD True" in lines


def test_a_data_file_linked_from_outside_its_folder_is_named_as_a_link(tmp_path, capsys):
    """``data/b2.csv`` is a symbolic link to a file outside ``data/``: the error says it is a
    link leaving the manifest's folder (it said "no manifest.toml found", issue 28)."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.copy(ARGON_B2, outside / "b2.csv")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "b2.csv").symlink_to(outside / "b2.csv")
    write_manifest(tmp_path / "data")  # lists b2.csv with the right sha256: only the link is off
    (tmp_path / "models").mkdir()
    problem = tmp_path / "models" / "toy.toml"
    problem.write_text(PROBLEM_TOML)
    code = main(["check", str(problem)])
    err = capsys.readouterr().err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert code != 0 and len(lines) == 1 and "Traceback" not in err, err
    assert "symbolic link to" in lines[0] and "outside" in lines[0] and "b2.csv" in lines[0]


def test_a_link_inside_the_data_folder_is_still_read(tmp_path, capsys):
    """Control: a link that stays inside the manifest's folder is fine."""
    (tmp_path / "data" / "sub").mkdir(parents=True)
    shutil.copy(ARGON_B2, tmp_path / "data" / "sub" / "real.csv")
    (tmp_path / "data" / "b2.csv").symlink_to(tmp_path / "data" / "sub" / "real.csv")
    write_manifest(tmp_path / "data", name="sub/real.csv")
    (tmp_path / "models").mkdir()
    problem = tmp_path / "models" / "toy.toml"
    problem.write_text(PROBLEM_TOML)
    assert main(["check", str(problem)]) == 0, capsys.readouterr().err
