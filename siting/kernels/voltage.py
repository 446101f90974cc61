"""Voltage classes of the grid: the one definition used by layers, criteria, allocation and maps.

A voltage belongs to the highest class whose ``lowest_kv`` it reaches: 765, 500 and 400 kV are the
500 kV class (Pakistan has no 400 or 765 kV network; a 400 kV line is extra-high voltage, drawn and scored
with the 500 kV lines), 230 kV is 220, 110 kV is 132, 66 kV (and 50-99 kV) is 66. Below 50 kV, or
unknown, there is no class (NaN). HVDC lines are a class of their own, given by their ``is_hvdc`` flag,
not by their voltage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class VoltageClass:
    """One voltage class: nominal kV, the lowest kV that belongs to it, a key and a label."""

    kv: float
    lowest_kv: float
    key: str
    label: str


CLASSES: tuple[VoltageClass, ...] = (  # highest first
    VoltageClass(500.0, 400.0, "500kv", "500 kV"),
    VoltageClass(220.0, 200.0, "220kv", "220 kV"),
    VoltageClass(132.0, 100.0, "132kv", "132 kV"),
    VoltageClass(66.0, 50.0, "66kv", "66 kV"),
)
HVDC_KEY = "hvdc"
OTHER_KEY = "other"  # known voltage below the lowest class
TRANSMISSION_KV: tuple[int, ...] = (132, 220, 500)  # classes the criteria measure distances to, lowest first


def class_kv(kv: np.ndarray | float) -> np.ndarray:
    """Nominal class (500, 220, 132, 66) of each voltage; NaN below 50 kV or unknown."""
    kv = np.asarray(kv, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.select([kv >= c.lowest_kv for c in CLASSES], [c.kv for c in CLASSES], np.nan)


def class_key(kv: np.ndarray | float, is_hvdc: np.ndarray | bool = False) -> np.ndarray:
    """Class key of each voltage: ``hvdc``, ``500kv``, ``220kv``, ``132kv``, ``66kv`` or ``other``."""
    kv = np.asarray(kv, dtype=float)
    with np.errstate(invalid="ignore"):
        keys = np.select([kv >= c.lowest_kv for c in CLASSES], [c.key for c in CLASSES], OTHER_KEY)
    return np.where(np.asarray(is_hvdc, dtype=bool), HVDC_KEY, keys)
