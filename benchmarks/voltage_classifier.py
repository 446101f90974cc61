"""Cross-validated accuracy of the substation voltage classifier, beside the old line-end rule.

Usage (after ``siting prepare``, or straight from a fetched ``data/raw``)::

    .venv/bin/python benchmarks/voltage_classifier.py [--data-dir data]

Prints, for the tagged OSM substations, each voltage class's cross-validated precision, recall and support
(stratified 5-fold, siting.layers.voltage_model), the overall accuracy, which classes the 90 % precision
rule keeps, the same figures on the tagged stations with no line end within 1 km (the stations the
classifier actually fills look like these), and the coverage (share of substations with a voltage) of the
old rule (tag, else line end within 1 km) and of the new one (plus the classifier) side by side. Then the
kind counts of the substations at 500 and 220 kV.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from siting.fields import F
from siting.io import reference
from siting.io.catalog import source_file
from siting.kernels import voltage
from siting.layers import GEM_FILES, LINE_FILES, grid, plants, substation_kind, voltage_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="folder with raw/ from `siting fetch`")
    parser.add_argument("--radius-km", type=float, default=1.0, help="line-end radius of the old rule")
    args = parser.parse_args()
    raw = args.data_dir / "raw"

    def path(ref: str) -> Path:
        return raw / source_file(ref).raw_relpath

    lines = grid.lines([path(r) for r in LINE_FILES])
    units = pd.concat([plants.read_gem(path(r), t) for t, r in GEM_FILES.items()], ignore_index=True)
    layer, model = grid.substations_layer(
        path("osm.substations"),
        lines,
        args.radius_km,
        units,
        reference.table("PAK", "substation_kind_rules.csv"),
        reference.table("PAK", "substation_kinds.csv"),
    )
    n = len(layer)
    print(f"Voltage classifier: random forest, {model.n_train} tagged substations, {voltage_model.N_SPLITS}-fold CV")
    rep = model.report.copy()
    rep.index = [f"{kv:g} kV" for kv in rep.index]
    print(rep.to_string(float_format=lambda v: f"{v:.3f}"))
    kept = ", ".join(f"{k:g} kV" for k in model.kept_kv)
    rule = f"precision >= {voltage_model.MIN_PRECISION:.0%}, predicted >= {voltage_model.MIN_PREDICTED}"
    print(f"cross-validated accuracy: {model.accuracy:.3f}; kept classes ({rule}): {kept}")

    # the stations the classifier fills have no line end within 1 km: the tagged ones like them
    x = voltage_model.features(layer, lines, substation_kind.plant_groups(units))
    tagged = (layer[F.VOLTAGE_BASIS] == "tagged").to_numpy()
    y = voltage.class_kv(layer[F.VOLTAGE_KV].to_numpy())
    train = tagged & np.isfinite(y)
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    cv = StratifiedKFold(n_splits=voltage_model.N_SPLITS, shuffle=True, random_state=voltage_model.RANDOM_STATE)
    pred = cross_val_predict(voltage_model._forest(), x[train], y[train], cv=cv)
    far = (x.loc[train, "n_ends_500kv_1km"] + x.loc[train, "n_ends_220kv_1km"] + x.loc[train, "n_ends_132kv_1km"]
           + x.loc[train, "n_ends_66kv_1km"]).to_numpy() == 0  # fmt: skip
    print(f"\nTagged stations with no AC line end within 1 km: {int(far.sum())}")
    for kv in voltage_model.CLASSES_KV:
        p = pred[far] == kv
        t = y[train][far] == kv
        prec = (p & t).sum() / p.sum() if p.sum() else float("nan")
        rec = (p & t).sum() / t.sum() if t.sum() else float("nan")
        print(f"  {kv:g} kV: support {int(t.sum())}, predicted {int(p.sum())}, precision {prec:.3f}, recall {rec:.3f}")
    print(f"  accuracy {np.mean(pred[far] == y[train][far]):.3f}")

    old = layer[F.VOLTAGE_SOURCE].isin(["tagged", "inferred"]).sum()
    new = layer[F.VOLTAGE_KV].notna().sum()
    print("\nCoverage (substations with a voltage)      old rule      new rule")
    for basis in ("tagged", "line end", "classifier"):
        o = int((layer[F.VOLTAGE_BASIS] == basis).sum()) if basis != "classifier" else 0
        print(f"  {basis:<40} {o:>8}      {int((layer[F.VOLTAGE_BASIS] == basis).sum()):>8}")
    print(f"  {'total':<40} {old:>4} ({old / n:.1%})  {new:>4} ({new / n:.1%})  of {n}")
    left = layer[layer[F.VOLTAGE_BASIS] == "unknown"]
    print(
        f"  left unknown: {len(left)} "
        f"(predicted class not kept: {left[F.VOLTAGE_PREDICTED_KV].value_counts().to_dict()})"
    )
    filled = layer[layer[F.VOLTAGE_BASIS] == "classifier"]
    print(f"  classifier fills by class: {filled[F.VOLTAGE_KV].value_counts().sort_index().to_dict()}; "
          f"median probability {filled[F.VOLTAGE_PROBABILITY].median():.2f}")  # fmt: skip
    print(f"  classifier agrees with the line-end rule on {voltage_model.rule_agreement(layer):.1%} of its stations")

    print("\nKinds (rows: voltage class; final voltages)")
    cls = pd.Series(voltage.class_kv(layer[F.VOLTAGE_KV].to_numpy()), index=layer.index)
    print(pd.crosstab(cls.map(lambda v: f"{v:g} kV" if np.isfinite(v) else "unknown"), layer[F.KIND]).to_string())
    tag500 = layer[(layer[F.VOLTAGE_BASIS] == "tagged") & (cls == 500)]
    print(f"\nTagged 500 kV: {len(tag500)}; by kind {tag500[F.KIND].value_counts().to_dict()}")
    print(f"kind basis: {layer[F.KIND_BASIS].value_counts().to_dict()}")


if __name__ == "__main__":
    main()
