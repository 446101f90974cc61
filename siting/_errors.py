"""The few exception types a user sees.

Every message is one sentence that names the file or key, says what is wrong and how to fix it.
The command line prints the message alone (no traceback unless ``--debug``) and exits non-zero.
"""

from __future__ import annotations


class SitingError(Exception):
    """Base class of the errors a user can act on."""

    exit_code = 1


class ConfigError(SitingError):
    """A study or profile configuration is missing, malformed or names something unknown."""

    exit_code = 2


class DataError(SitingError):
    """An input file is missing, corrupt, fails its checksum or breaks a layer's schema."""

    exit_code = 3
