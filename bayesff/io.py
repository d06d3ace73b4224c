"""Writing files safely: atomic replacement, confinement to an output root, locks.

* :func:`atomic_path` writes to a temporary file beside the target and
  renames it into place; on any failure (a full disk, Ctrl-C) the temporary
  file is removed and the old file, if any, is untouched.
* :func:`confined` resolves a path and refuses one outside its output root
  (``runs/``, ``reports/`` or the ``--out`` given), symlinks included.
* :func:`check_writable` checks, before any sampling, that a folder can be
  created and written and has room for the expected file.
* :class:`Lock` is an exclusive lock file naming its holder (host, pid,
  start time); a lock left by a dead process on this host is taken over.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import time
from pathlib import Path

from bayesff.errors import BayesffError

__all__ = [
    "Lock",
    "LockedError",
    "OutputError",
    "atomic_path",
    "check_writable",
    "confined",
    "not_a_file",
]


def not_a_file(path) -> str | None:
    """Why an existing ``path`` cannot be read as a file ("is a directory", "is not a
    regular file": a device, FIFO or socket, where reading would block or never end), or
    None if it is a regular file or does not exist."""
    path = Path(path)
    try:
        if not path.exists() or path.is_file():
            return None
        return (
            "is a directory"
            if path.is_dir()
            else "is not a regular file (a device, FIFO or socket)"
        )
    except OSError:
        return None  # the caller's own lookup says what is wrong


class OutputError(BayesffError):
    """An output path is outside its root, unwritable, or on a disk without room."""


class LockedError(BayesffError):
    """Another live process holds the lock of an output."""


def _host_tag() -> str:
    """This machine's name as it goes into a temporary file's name (letters, digits, -)."""
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:64] or "host"


def _remove_stale_temporaries(path: Path) -> None:
    """Temporary files of ``path`` left by processes of this machine that died (SIGKILL,
    power loss). A temporary file is named ``.NAME.HOST.PID.tmp``: on a folder shared
    between machines, another machine's file is never taken for a dead process's (its
    pid means nothing here). The names before 2026-11-30, ``.NAME.PID.tmp``, are
    taken as this machine's, as they were."""
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        middle = tmp.name[len(path.name) + 2 : -len(".tmp")]
        host, _, pid = middle.rpartition(".")
        if host not in ("", _host_tag()) or not pid.isdigit() or _alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            tmp.unlink()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside ``path``; rename it to ``path`` if the block succeeds.

    Temporary files of the same path left by dead processes are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    tmp = path.with_name(f".{path.name}.{_host_tag()}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write bytes atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return Path(path)


def confined(path: str | os.PathLike, root: str | os.PathLike, what: str = "output") -> Path:
    """``path`` resolved (symlinks followed), refused unless it lies inside ``root``."""
    root_r = Path(root).resolve()
    p = Path(path)
    resolved = (p if p.is_absolute() else Path.cwd() / p).resolve()
    if resolved != root_r and root_r not in resolved.parents:
        raise OutputError(
            f"{what} {str(path)!r} resolves to {resolved}, outside its output folder {root_r}; "
            "bayesff writes only inside it (check the name and any symbolic links)",
            str(path),
        )
    return resolved


def check_writable(path: str | os.PathLike, expected_bytes: int = 0) -> None:
    """Fail now, not after sampling, if ``path`` cannot be written.

    Creates the parent folder, writes and removes a probe file, checks the
    name's length and, when ``expected_bytes`` is given, the free space.
    """
    path = Path(path)
    try:
        max_name = os.pathconf(".", "PC_NAME_MAX")
    except (OSError, ValueError):
        max_name = 255
    for part in path.parts:
        if len(part.encode()) > max_name:
            raise OutputError(
                f"a path component is {len(part.encode())} bytes long; the file system allows "
                f"{max_name}",
                str(path),
            )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        probe = path.with_name(f".{path.name}.{os.getpid()}.probe")
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise OutputError(
            f"cannot write here: {e.strerror or e} (choose another --out)", str(path)
        ) from None
    if expected_bytes:
        free = shutil.disk_usage(path.parent).free
        if free < 2 * expected_bytes:
            raise OutputError(
                f"only {free / 1e6:.1f} MB free, and the run file needs about "
                f"{expected_bytes / 1e6:.1f} MB (twice that is asked for the atomic write)",
                str(path),
            )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


#: Seconds an empty lock file is left to its holder to write its name into (an empty
#: lock that old is a holder that died in between, and is taken over)
LOCK_WRITE_GRACE_S = 10.0

#: Seconds an empty lock that looks older than :data:`LOCK_WRITE_GRACE_S` is watched on
#: this process's own clock before it is taken over: its age comes from the file's mtime,
#: which a shared folder's server stamps by its clock, so a server clock running behind
#: made a lock created just now look old (a holder writes its name within microseconds
#: of creating the file: seconds of emptiness are a holder that died)
LOCK_WRITE_CONFIRM_S = 2.0


class Lock:
    """An exclusive lock file beside an output (``.NAME.lock``), naming its holder.

    Use as a context manager. A lock whose holder is a dead process on this
    host is stale and is taken over; a lock held by a live process (or by
    another host, which cannot be checked) raises :class:`LockedError` naming it.
    """

    def __init__(self, output: str | os.PathLike):
        output = Path(output)
        self.path = output.with_name(f".{output.name}.lock")
        self.held = False

    def _holder(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def _age(self) -> float:
        """Seconds since the lock file was last changed (0 if it cannot be read)."""
        try:
            return time.time() - self.path.stat().st_mtime
        except OSError:
            return 0.0

    def _watch_empty(self) -> dict | None:
        """Watch an empty lock for :data:`LOCK_WRITE_CONFIRM_S` of this process's
        monotonic clock: ``{}`` if it stayed empty and the same file (its holder died
        before writing: take it over), its holder if one wrote its name, ``None`` if it
        was released or replaced meanwhile (try again)."""
        try:
            first = self.path.stat().st_ino
        except OSError:
            return None
        end = time.monotonic() + LOCK_WRITE_CONFIRM_S
        while time.monotonic() < end:
            time.sleep(0.05)
            h = self._holder()
            try:
                same = self.path.stat().st_ino == first
            except OSError:
                return None
            if not same:
                return None
            if h:
                return h
        return {}

    def acquire(self) -> Lock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = {"host": socket.gethostname(), "pid": os.getpid(), "started": time.time()}
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                h = self._holder()
                if not h and not os.path.lexists(self.path):
                    continue  # released between our create and our read: try again
                stale = h.get("host") == me["host"] and not _alive(int(h.get("pid", -1)))
                # an empty lock is its holder's between its creation and its first write:
                # stale only once it has stayed empty (else two processes held it)
                # an mtime in the future (the server's clock ahead) is no age at all
                age = self._age()
                if not stale and not h and (age > LOCK_WRITE_GRACE_S or age < 0.0):
                    h = self._watch_empty()
                    if h is None:
                        continue  # released or replaced while watched: try again
                    stale = not h
                if stale:
                    with contextlib.suppress(OSError):
                        self.path.unlink()
                    continue
                if not h:
                    raise LockedError(
                        "another bayesff process is taking the lock of this output just now; "
                        f"wait, or remove {self.path} if it stays empty",
                        str(self.path),
                    ) from None
                raise LockedError(
                    f"another bayesff process is writing this output (pid {h.get('pid')} on "
                    f"{h.get('host')}, since "
                    f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(h.get('started', 0)))}); "
                    f"wait for it, or remove {self.path} if that process is gone",
                    str(self.path),
                ) from None
            with os.fdopen(fd, "w") as fh:
                json.dump(me, fh)
            self.held = True
            return self
        raise LockedError("could not take the lock", str(self.path))

    def release(self) -> None:
        if self.held:
            with contextlib.suppress(OSError):
                self.path.unlink()
            self.held = False

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
