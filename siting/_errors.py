"""The few exception types a user sees.

Every message is one sentence that names the file or key, says what is wrong and how to fix it.
The command line prints the message alone (no traceback unless ``--debug``) and exits non-zero.
"""

from __future__ import annotations

import errno
import re


class SitingError(Exception):
    """Base class of the errors a user can act on."""

    exit_code = 1


class ConfigError(SitingError):
    """A study or profile configuration is missing, malformed or names something unknown."""

    exit_code = 2


class DataError(SitingError):
    """An input file is missing, corrupt, fails its checksum or breaks a layer's schema."""

    exit_code = 3


class WriteError(SitingError):
    """An output could not be written: permission, read-only file system, disk full, file too large."""

    exit_code = 74  # EX_IOERR of sysexits.h


class BusyError(SitingError):
    """Another run holds the lock of the output folder."""

    exit_code = 75  # EX_TEMPFAIL of sysexits.h: try again later


class Interrupted(SitingError):
    """Ctrl-C or SIGTERM; the message says which set of outputs the folder holds now."""

    exit_code = 130


_OS_ERRORS = {
    errno.EACCES: "is not writable (permission denied); fix the folder's permissions or choose another --data-dir",
    errno.EPERM: "is not writable (operation not permitted); fix the folder's permissions or choose another --data-dir",
    errno.EROFS: "is on a read-only file system; choose a --data-dir on a writable disk",
    errno.ENOSPC: "could not be written: the disk is full; free some space and run again",
    errno.EDQUOT: "could not be written: the disk quota is exceeded; free some space and run again",
    errno.EFBIG: "could not be written: the file is too large for this file system; choose a --data-dir on "
    "another disk",
}


def from_os_error(exc: OSError) -> WriteError | None:
    """One sentence for the operating-system errors a user can fix (permission, read-only, disk full, too large).

    Returns None for other errors. The message names the path and says that earlier outputs are intact
    (every output is written to a temporary file or staging folder first).
    """
    what = _OS_ERRORS.get(exc.errno or 0)
    if what is None:
        return None
    where = exc.filename if exc.filename is not None else "an output file"
    return WriteError(f"{where} {what}; the outputs written before this run are intact.")


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    r"""Return ``text`` with every control character (newline, ESC, ...) written as an escape (``\n``, ``\x1b``).

    Every message the command line prints goes through this, so a file name or a CSV header cannot move the
    cursor, recolour the terminal or forge a second ``error:`` line.
    """
    return _CONTROL.sub(_escape_one, text)


def _escape_one(match: re.Match[str]) -> str:
    char = match.group()
    return repr(char)[1:-1] if ord(char) < 0x100 else f"\\u{ord(char):04x}"
