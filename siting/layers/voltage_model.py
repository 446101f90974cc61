"""Voltage of the substations OSM leaves untagged: a classifier trained on the tagged ones.

The rule of :func:`siting.layers.grid.substations` (tag, else the highest line ending within 1 km) leaves
355 of 1,177 substations without a voltage. This module trains a random forest
(``sklearn.ensemble.RandomForestClassifier``, fixed ``random_state``, one thread, so that ``prepare``
stays byte-reproducible) on the tagged substations to predict the voltage class (500, 220, 132 or 66 kV,
:mod:`siting.kernels.voltage`) from:

- the highest voltage and the number of line ends of each class within 0.5, 1, 2, 5 and 10 km;
- the distance to the nearest line end and to the nearest line of each class, and to an HVDC line end;
- the distance to the nearest power plant of 100 MW or more and the plant capacity within 5 km;
- name and operator tokens: empty or not, a voltage written in the name ("132 kV Grid Station"), grid,
  NTDC/WAPDA, the distribution companies, K-Electric, plant words, Urdu script;
- longitude and latitude.

Stratified 5-fold cross-validation (``StratifiedKFold``, shuffled with a fixed seed) gives every tagged
station an out-of-fold prediction; from these come each class's precision and recall and the overall
accuracy. A predicted class is *kept* only if its cross-validated precision is at least
:data:`MIN_PRECISION` (and the class was predicted at least :data:`MIN_PREDICTED` times); an untagged
station with no line end within 1 km takes the forest's prediction only if its class is kept
(``voltage_basis = "classifier"``), otherwise its voltage stays unknown. Every untagged station carries the
prediction (``voltage_predicted_kv``) and its probability (``voltage_probability``) either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

if TYPE_CHECKING:
    from sklearn.ensemble import RandomForestClassifier

from siting.fields import F
from siting.kernels import voltage
from siting.kernels.geodesy import PointIndex, SegmentIndex

RADII_KM = (0.5, 1.0, 2.0, 5.0, 10.0)
FAR_KM = 200.0  # distance given when no feature of a class exists
MIN_PRECISION = 0.90
MIN_PREDICTED = 5
N_SPLITS = 5
RANDOM_STATE = 0
N_TREES = 300
CLASSES_KV = tuple(c.kv for c in voltage.CLASSES)  # 500, 220, 132, 66
TOKENS = {
    "grid": r"grid|g/s|gss|\bsub\s*station|substation",
    "ntdc": r"ntdc|nkd|wapda|ترسیلات",
    "disco": r"lesco|iesco|mepco|fesco|gepco|pesco|tesco|hesco|sepco|qesco|electric supply",
    "kelectric": r"k-?electric|\bkesc\b|\bke\b",
    "plant": r"power|hydel|hydro|\bhpp\b|\bpp\b|plant|project|switch\s*yard|\bips?p\b|mill",
    "new": r"\bnew\b",
    "converter": r"convert|hvdc",
}


@dataclass
class VoltageModel:
    """The fitted classifier's cross-validated record and the classes it may assign."""

    report: pd.DataFrame  # per class: support, predicted, precision, recall, kept
    accuracy: float
    n_train: int
    kept_kv: tuple[float, ...]
    features: list[str] = field(default_factory=list)
    importances: pd.Series | None = None

    def summary(self) -> dict:
        """Return a JSON-able record for ``provenance.json``."""
        return {
            "cv_accuracy": round(self.accuracy, 4),
            "n_train": self.n_train,
            "min_precision": MIN_PRECISION,
            "kept_kv": list(self.kept_kv),
            "per_class": {
                f"{kv:g}": {k: (round(float(v), 4) if isinstance(v, float) else v) for k, v in row.items()}
                for kv, row in self.report.to_dict("index").items()
            },
        }


def _line_ends(lines: pd.DataFrame) -> pd.DataFrame:
    parts, part_of = shapely.get_parts(lines.geometry.values, return_index=True)
    starts = shapely.get_coordinates(shapely.get_point(parts, 0))
    stops = shapely.get_coordinates(shapely.get_point(parts, -1))
    kv = lines[F.VOLTAGE_KV].to_numpy(dtype=float)[part_of]
    hv = lines["is_hvdc"].to_numpy(dtype=bool)[part_of]
    xy = np.vstack([starts, stops])
    return pd.DataFrame({"lon": xy[:, 0], "lat": xy[:, 1], "kv": np.r_[kv, kv], "is_hvdc": np.r_[hv, hv]})


def features(subs: pd.DataFrame, lines: pd.DataFrame, plants: pd.DataFrame) -> pd.DataFrame:
    """Compute the classifier's features of every substation (one row each, aligned with ``subs``)."""
    lon, lat = subs.geometry.x.to_numpy(), subs.geometry.y.to_numpy()
    n = len(subs)
    out: dict[str, np.ndarray] = {"lon": lon, "lat": lat}
    ends = _line_ends(lines)
    ac = ends[~ends["is_hvdc"]].reset_index(drop=True)
    ac_cls = voltage.class_kv(ac["kv"].to_numpy())
    index = PointIndex(ac["lon"], ac["lat"])
    kv_ends = np.nan_to_num(ac["kv"].to_numpy(), nan=0.0)
    for r in RADII_KM:
        hits = index.within(lon, lat, r)
        out[f"max_kv_ends_{r:g}km"] = np.array([kv_ends[h].max() if len(h) else 0.0 for h in hits])
        for c in CLASSES_KV:
            out[f"n_ends_{c:g}kv_{r:g}km"] = np.array([float((ac_cls[h] == c).sum()) if len(h) else 0.0 for h in hits])
    for c in CLASSES_KV:
        sel = ac[ac_cls == c]
        out[f"km_end_{c:g}kv"] = (
            np.minimum(PointIndex(sel["lon"], sel["lat"]).nearest(lon, lat)[0], FAR_KM)
            if len(sel)
            else np.full(n, FAR_KM)
        )
        ln = lines[(voltage.class_kv(lines[F.VOLTAGE_KV].to_numpy()) == c) & ~lines["is_hvdc"].to_numpy(dtype=bool)]
        out[f"km_line_{c:g}kv"] = (
            np.minimum(SegmentIndex.from_lines(ln.geometry.values)[0].nearest(lon, lat)[0], FAR_KM)
            if len(ln)
            else np.full(n, FAR_KM)
        )
    hv = ends[ends["is_hvdc"]]
    out["km_end_hvdc"] = (
        np.minimum(PointIndex(hv["lon"], hv["lat"]).nearest(lon, lat)[0], FAR_KM) if len(hv) else np.full(n, FAR_KM)
    )
    big = plants[plants["capacity_mw"] >= 100.0].reset_index(drop=True)
    if len(big):
        pidx = PointIndex(big["lon"], big["lat"])
        out["km_plant_100mw"] = np.minimum(pidx.nearest(lon, lat)[0], FAR_KM)
        cap = big["capacity_mw"].to_numpy(dtype=float)
        out["plant_mw_5km"] = np.array([cap[h].sum() if len(h) else 0.0 for h in pidx.within(lon, lat, 5.0)])
    else:
        out["km_plant_100mw"], out["plant_mw_5km"] = np.full(n, FAR_KM), np.zeros(n)
    names = subs[F.NAME].fillna("").astype(str)
    ops = subs["operator"].fillna("").astype(str)
    text = names + " | " + ops
    out["name_empty"] = (names.str.strip() == "").to_numpy(dtype=float)
    out["operator_empty"] = (ops.str.strip() == "").to_numpy(dtype=float)
    kv_name = names.str.extract(r"(\d{2,3})\s*[kK]\.?\s*[vV]", expand=False).astype(float)
    out["kv_in_name"] = kv_name.fillna(0.0).to_numpy()
    for token, pattern in TOKENS.items():
        out[f"token_{token}"] = text.str.contains(re.compile(pattern, re.IGNORECASE)).to_numpy(dtype=float)
    out["urdu_script"] = text.str.contains(r"[\u0600-\u06FF]").to_numpy(dtype=float)
    return pd.DataFrame(out, index=subs.index)


def _forest():
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(
        n_estimators=N_TREES, min_samples_leaf=1, class_weight="balanced", random_state=RANDOM_STATE, n_jobs=1
    )


def fit(x: pd.DataFrame, y: np.ndarray) -> tuple[RandomForestClassifier, VoltageModel]:
    """Cross-validate, then fit on all labelled rows; return the forest and its record."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    cv = StratifiedKFold(n_splits=N_SPLITS, shuffle=True, random_state=RANDOM_STATE)
    pred = cross_val_predict(_forest(), x, y, cv=cv)
    labels = np.array(sorted(set(y), reverse=True))
    prec, rec, _, support = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    predicted = np.array([(pred == c).sum() for c in labels])
    kept = (prec >= MIN_PRECISION) & (predicted >= MIN_PREDICTED)
    report = pd.DataFrame(
        {"support": support, "predicted": predicted, "precision": prec, "recall": rec, "kept": kept},
        index=pd.Index(labels, name="voltage_class_kv"),
    )
    model = _forest().fit(x, y)
    record = VoltageModel(
        report=report,
        accuracy=float(accuracy_score(y, pred)),
        n_train=len(y),
        kept_kv=tuple(float(c) for c in labels[kept]),
        features=list(x.columns),
        importances=pd.Series(model.feature_importances_, index=x.columns).sort_values(ascending=False),
    )
    return model, record


def fill(subs: pd.DataFrame, lines: pd.DataFrame, plants: pd.DataFrame) -> tuple[pd.DataFrame, VoltageModel]:
    """Add ``voltage_basis``, ``voltage_predicted_kv``, ``voltage_probability``; fill kept predictions in.

    ``subs`` comes from :func:`siting.layers.grid.substations` (``voltage_source`` tagged / inferred /
    unknown). The result keeps ``voltage_source`` (the tag-and-line-end rule alone, for comparison) and sets
    ``voltage_basis`` to ``tagged``, ``line end``, ``classifier`` or ``unknown``.
    """
    out = subs.copy()
    x = features(out, lines, plants)
    tagged = (out[F.VOLTAGE_SOURCE] == "tagged").to_numpy()
    y = voltage.class_kv(out[F.VOLTAGE_KV].to_numpy())
    train = tagged & np.isfinite(y)
    model, record = fit(x[train], y[train])
    proba = model.predict_proba(x)
    classes = model.classes_.astype(float)
    best = proba.argmax(axis=1)
    pred_kv, pred_p = classes[best], proba[np.arange(len(out)), best]
    untagged = ~tagged
    out[F.VOLTAGE_PREDICTED_KV] = np.where(untagged, pred_kv, np.nan)
    out[F.VOLTAGE_PROBABILITY] = np.where(untagged, pred_p, np.nan)
    basis = np.where(tagged, "tagged", np.where(out[F.VOLTAGE_SOURCE] == "inferred", "line end", "unknown"))
    fills = (basis == "unknown") & np.isin(pred_kv, record.kept_kv)
    basis = np.where(fills, "classifier", basis).astype(object)
    kv = out[F.VOLTAGE_KV].to_numpy(dtype=float).copy()
    kv[fills] = pred_kv[fills]
    out[F.VOLTAGE_KV] = kv
    out[F.VOLTAGE_BASIS] = basis
    return out, record


def rule_agreement(subs: pd.DataFrame) -> float:
    """Share of the line-end-inferred stations whose classifier prediction is the line-end class."""
    sel = subs[F.VOLTAGE_BASIS] == "line end"
    if not sel.any():
        return float("nan")
    rule = voltage.class_kv(subs.loc[sel, F.VOLTAGE_KV].to_numpy())
    return float((rule == subs.loc[sel, F.VOLTAGE_PREDICTED_KV].to_numpy()).mean())
