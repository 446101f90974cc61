"""Text from data drawn by matplotlib as plain text.

matplotlib reads text between two ``$`` as mathtext, so a region, province or site name with a ``$`` in it
renders as a formula or stops the PNG with a parse error. Inside :func:`plain_text` every text is drawn as
written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def plain_text() -> Iterator[None]:
    """Draw every matplotlib text created in the block without mathtext (``text.parse_math`` off)."""
    import matplotlib

    with matplotlib.rc_context({"text.parse_math": False}):
        yield
