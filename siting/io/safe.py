"""Checks that keep hostile or broken names and files from turning into paths or hangs.

``path_name`` refuses a name (study, profile stem, variant) that would leave its folder or collide with a
folder siting itself uses; ``regular_file`` refuses a FIFO, a device or a folder before anything reads it
(opening a FIFO blocks until a writer appears).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from siting._errors import ConfigError, DataError

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
RESERVED_NAMES = frozenset({"layers", "raw", "processed", "con", "prn", "aux", "nul"})
MAX_NAME_LENGTH = 100


def path_name(name: str, what: str) -> str:
    """Return ``name`` if it is safe as one folder name, else raise ConfigError saying why.

    Safe: letters, digits, ``_`` and ``-``, starting with a letter or digit (so no ``.``, ``..``, hidden
    names or separators), at most 100 characters, and not a name siting uses for its own folders
    (``layers``, ``raw``, ``processed``) or one Windows reserves.
    """
    if not NAME_PATTERN.match(name) or len(name) > MAX_NAME_LENGTH:
        raise ConfigError(
            f"{what} {name!r} cannot name a folder; use letters, digits, '_' and '-' only (starting with a letter "
            f"or digit, at most {MAX_NAME_LENGTH} characters)."
        )
    if name.lower() in RESERVED_NAMES:
        raise ConfigError(
            f"{what} {name!r} is reserved (siting uses data/processed/{name.lower()} itself); choose another name."
        )
    return name


def regular_file(path: Path, what: str) -> None:
    """Raise DataError unless ``path`` is a regular file (a symlink to one is fine); never opens it."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise DataError(f"{path} ({what}) does not exist; check the path.") from None
    except OSError as exc:
        raise DataError(f"{path} ({what}) cannot be opened ({exc.strerror}); check the path.") from exc
    if stat.S_ISREG(mode):
        return
    kind = (
        "a folder"
        if stat.S_ISDIR(mode)
        else "a named pipe (FIFO)"
        if stat.S_ISFIFO(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a regular file"
    )
    raise DataError(f"{path} ({what}) is {kind}, not a file; give the path of the file itself.")


BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def text_encoding(path: Path) -> str | None:
    """Return the encoding of a text file when its first bytes say it (a BOM, or UTF-16 without one), else None."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    for bom, name in BOMS:
        if head.startswith(bom):
            return name
    if len(head) >= 4 and head.count(0) >= len(head) // 4:  # ASCII text in UTF-16: every other byte is 0
        return "utf-16-le" if head[1] == 0 else "utf-16-be"
    return None
