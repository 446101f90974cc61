"""Output folders that commit whole, one run at a time.

A run that writes an output folder first takes its lock (``fcntl.flock`` on ``.<folder>.lock`` beside it,
holding the PID and command of the run): ``score`` exclusively, the stages that add files beside a committed
set (map, sensitivity, allocate) shared. A run that cannot have it waits up to ``$SITING_LOCK_WAIT`` seconds
(default 0) and then refuses with one sentence naming the holder.

``siting score`` writes its whole set into ``.<folder>.staging-<pid>/`` beside the folder and swaps it in
at the end (one atomic ``renameat2(RENAME_EXCHANGE)`` on Linux, else two renames with signals held), so
a reader sees the previous complete set or the new complete set, never a mix. ``provenance.json`` is
written last and lists every output with its sha256; :func:`verify_output_set` checks it before map,
sensitivity, allocation or compare trusts a folder.

Temporary files and folders carry the PID of the run that made them; only those of runs that are no
longer alive are removed.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from siting._errors import BusyError, DataError, Interrupted
from siting.io.files import sha256_path

LOCK_WAIT_ENV = "SITING_LOCK_WAIT"
MANIFEST = "provenance.json"
_HELD: dict[Path, int] = {}  # folders this process has locked, with the nesting depth
_COMMITTED: set[Path] = set()  # folders this process swapped a new set into since the run began
_PART = re.compile(r"^\..+\.(\d+)\.[^.]+\.part")  # .<stem>.<pid>.<random>.part<suffix> (siting.io.files)


def lock_file(folder: Path) -> Path:
    """Return the lock of an output folder, ``.<name>.lock`` beside it (outside, so the folder can be swapped)."""
    return folder.parent / f".{folder.name}.lock"


def pid_alive(pid: int) -> bool:
    """Whether a process with this PID exists (ours counts as alive)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def _holder(fd: int) -> str:
    """Name the first live run in the lock file (one line ``<pid> <command>`` per holder; shared ones append)."""
    with contextlib.suppress(OSError):
        for line in os.pread(fd, 1 << 16, 0).decode("utf-8", "replace").splitlines():
            pid, _, command = line.strip().partition(" ")
            if pid.isdigit() and int(pid) != os.getpid() and pid_alive(int(pid)):
                return f"PID {pid}, `{command}`" if command else f"PID {pid}"
    return "PID unknown"


@contextlib.contextmanager
def locked(folder: Path, command: str = "siting", shared: bool = False) -> Iterator[None]:
    """Hold the lock of ``folder`` for the block (re-entrant within one process).

    ``shared``: for stages that only add files beside a committed set (map, sensitivity, allocate); several
    may hold it at once, but not while a ``score`` holds it exclusively to swap a new set in. On taking it
    exclusively, the leftovers of dead runs are cleaned up (:func:`recover`).

    Raises
    ------
    BusyError
        If another run holds the lock for longer than ``$SITING_LOCK_WAIT`` seconds (default: refuse at once).

    """
    folder = Path(os.path.abspath(folder))
    if folder in _HELD:
        _HELD[folder] += 1
        try:
            yield
        finally:
            _HELD[folder] -= 1
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file(folder), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        wait = float(os.environ.get(LOCK_WAIT_ENV) or 0)
    except ValueError:
        wait = 0.0
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise BusyError(
                        f"{folder} is in use by another siting run ({_holder(fd)}); wait for it to finish "
                        f"(or set {LOCK_WAIT_ENV} to the seconds to wait) and run again."
                    ) from None
                time.sleep(0.1)
        record = f"{os.getpid()} {command}\n".encode()
        if shared:
            os.pwrite(fd, record, os.fstat(fd).st_size)  # beside the other readers
        else:
            os.ftruncate(fd, 0)
            os.pwrite(fd, record, 0)
        if not shared:
            recover(folder)
        _HELD[folder] = 1
        try:
            yield
        finally:
            del _HELD[folder]
            if not shared:
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the flock


def _dead(name: str, pattern: re.Pattern[str]) -> bool:
    m = pattern.match(name)
    return m is not None and not pid_alive(int(m.group(1)))


def remove_stale_parts(folder: Path) -> list[Path]:
    """Delete the temporary files (``.<name>.<pid>.*.part*``) that runs no longer alive left in ``folder``."""
    stale = sorted(p for p in folder.glob(".*.part*") if _dead(p.name, _PART)) if folder.is_dir() else []
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


def recover(folder: Path) -> None:
    """Clean up after dead runs of ``folder``: restore a set caught between two renames, drop staging folders."""
    parent, name = folder.parent, re.escape(folder.name)
    staging, old = re.compile(rf"^\.{name}\.staging-(\d+)$"), re.compile(rf"^\.{name}\.old-(\d+)$")
    for p in sorted(parent.glob(f".{folder.name}.old-*")):
        if _dead(p.name, old):
            if not folder.exists():
                os.rename(p, folder)  # killed between the two renames of a swap: the old set is complete
            else:
                shutil.rmtree(p, ignore_errors=True)
    for p in sorted(parent.glob(f".{folder.name}.staging-*")):
        if _dead(p.name, staging):
            shutil.rmtree(p, ignore_errors=True)
    remove_stale_parts(folder)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); False where the system cannot."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends, then act on the first that came.

    Python runs signal handlers in the main thread, whichever thread the signal arrived on (libraries keep
    thread pools, so masking the main thread alone is not enough); a handler that only records the signal
    keeps the block whole.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {
        s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if caught:
            handler = previous[signal.Signals(caught[0])]
            if callable(handler):
                handler(caught[0], None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(caught[0])


class OutputSet:
    """A set of outputs written into a staging folder and swapped in whole by :meth:`commit`.

    Use as a context manager under :func:`locked`; leaving the block without committing (an error, Ctrl-C)
    removes the staging folder and leaves the previous set as it was.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.staging = self.folder.parent / f".{self.folder.name}.staging-{os.getpid()}"
        self.committed = False

    def __enter__(self) -> OutputSet:
        shutil.rmtree(self.staging, ignore_errors=True)
        self.staging.mkdir(parents=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.committed:
            shutil.rmtree(self.staging, ignore_errors=True)

    def commit(self) -> None:
        """Swap the staging folder in for the output folder, with SIGINT and SIGTERM held off meanwhile."""
        with _signals_deferred():
            _fsync_dir(self.staging)
            if not self.folder.exists():
                os.rename(self.staging, self.folder)
            elif _exchange(self.staging, self.folder):
                shutil.rmtree(self.staging, ignore_errors=True)  # now holds the previous set
            else:
                old = self.folder.parent / f".{self.folder.name}.old-{os.getpid()}"
                os.rename(self.folder, old)
                os.rename(self.staging, self.folder)
                shutil.rmtree(old, ignore_errors=True)
            _fsync_dir(self.folder.parent)
            self.committed = True
            _COMMITTED.add(Path(os.path.abspath(self.folder)))


@contextlib.contextmanager
def interruptible(folder: Path) -> Iterator[None]:
    """Turn Ctrl-C or SIGTERM in the block into :class:`~siting._errors.Interrupted` saying what ``folder`` holds."""
    key = Path(os.path.abspath(folder))
    _COMMITTED.discard(key)
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted(interrupted_message(folder, key in _COMMITTED)) from None


def interrupted_message(folder: Path, committed: bool) -> str:
    """Say truthfully what a Ctrl-C or SIGTERM left in ``folder``."""
    if committed:
        return f"interrupted after the new outputs were complete; {folder} holds this run's complete set."
    if (folder / MANIFEST).is_file():
        return f"interrupted; {folder} still holds the previous complete set of outputs, none of this run's."
    return f"interrupted; nothing was written to {folder}."


def verify_output_set(folder: Path) -> dict:
    """Check that ``folder`` holds one complete set of outputs, as its ``provenance.json`` lists them.

    A folder without ``scores.parquet`` is left to the caller (which says which stage to run first).

    Returns
    -------
    dict
        The provenance (empty if there are no scores).

    Raises
    ------
    DataError
        If the manifest is missing or unreadable, or an output it lists is missing or differs from its sha256.

    """
    if not (folder / "scores.parquet").exists():  # a file, or a partitioned run's folder of parts
        return {}

    def refuse(why: str) -> DataError:
        return DataError(f"{folder} holds an incomplete or mixed set of outputs ({why}); run `siting score` again.")

    try:
        prov = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        outputs = prov["outputs"]
        listed = {str(v["file"]): str(v["sha256"]) for v in outputs.values()}
    except FileNotFoundError:
        raise refuse(f"no {MANIFEST}") from None
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        raise refuse(f"{MANIFEST} is unreadable or lists no outputs ({type(exc).__name__})") from exc
    for name, digest in sorted(listed.items()):
        path = folder / name
        if Path(name).name != name or not path.exists():
            raise refuse(f"{name} is missing")
        if sha256_path(path) != digest:
            raise refuse(f"{name} does not match its checksum in {MANIFEST}")
    return prov
