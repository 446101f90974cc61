"""Label columns gathered by index: ``labels[idx]`` as the column pandas makes of it, without the per-row cost."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray


def take_labels(labels: ArrayLike, idx: ArrayLike) -> NDArray[np.object_] | pd.api.extensions.ExtensionArray:
    """Return ``labels[idx]`` as pandas would store it in a column: each distinct label converted once.

    A column made from an object array of strings is converted string by string to pandas' ``str`` dtype, the
    slow part for a million rows naming a few hundred stations. Here the labels that ``idx`` uses are converted
    once (pandas infers their dtype, as it would for the whole column) and the result is gathered from them.

    Parameters
    ----------
    labels
        The distinct labels (an object array: strings, maybe missing values; any other array is just indexed).
    idx
        Non-negative positions into ``labels``.

    Returns
    -------
    ndarray or ExtensionArray
        The ``str`` array of ``labels[idx]`` when pandas would infer ``str`` for it; otherwise the object array
        ``labels[idx]`` itself (no rows, no labels, not an object array, or labels that are not all strings).

    """
    labels = np.asarray(labels)
    idx = np.asarray(idx, dtype=np.intp)
    if labels.dtype != object or not len(idx) or not len(labels) or idx.min() < 0:
        return labels[idx]
    used = np.bincount(idx, minlength=len(labels)) > 0
    distinct = pd.Series(labels[used])
    if not isinstance(distinct.dtype, pd.StringDtype):
        return labels[idx]
    position = np.cumsum(used) - 1
    return distinct.array.take(position[idx])
