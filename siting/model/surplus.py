"""Provincial surplus by month (the legacy model), and the zonal hosting model beside it.

The zonal model (:mod:`siting.model.zones`: counted plants, network zones, interface limits, demand by zone,
firm versus interruptible load) is what the scores and the allocation use when the zones are given; the
provincial model below is kept, computable, as the "old" figures of ``national_checks.csv``. It runs on the
roster GEM reports (``roster="gem"``: every operating GEM unit plus ``capacity_additions.csv``) or on the
corrected roster (``roster="counted"``: the plants layer's ``counts`` units, renewables included), so the
checks separate what the roster changes from what the zones change.

For each province ``p`` and month ``m``::

    available[p, m] = Σ_fuel capacity[p, fuel] × availability[fuel, m]
    demand[p, m]    = national_peak[m] × share[p]                 (share: population by default)
    surplus[p, m]   = available[p, m] − demand[p, m]

Capacity is the operating Global Energy Monitor units located in the province (point in polygon), plus the
wind and solar the GEM files lack (``regions/<ISO3>/capacity_additions.csv``). Hydro follows a seasonal
availability profile, thermal and nuclear an availability factor (``availability.csv``). The national
monthly peak comes from ``demand_monthly.csv`` (the published summer peak and winter trough, interpolated).

Deliverability, kept simple and explicit: provinces form two zones, the exporting south (Sindh,
Balochistan: Thar coal, the coastal nuclear units, the gas fleet, Jhimpir wind) and the north. Within a zone power
moves freely; between zones at most ``south_north_transfer_mw``. A zone's net balance after that transfer
is what new loads in the zone can use: in a zone left in deficit nothing is deliverable, however much one of
its provinces generates; in a zone left in surplus the net is shared among its surplus provinces in
proportion to their own surplus. Deficit provinces keep their (negative) surplus. A pack whose ``provinces.csv``
puts no province in the south zone (a new country's, as ``siting region new`` writes it) is one zone: nothing is
transferred, and ``south_north_transfer_mw`` is not asked for.

Reported per province: ``firm_surplus_mw`` (the worst month, what a firm load can count on),
``surplus_mw`` (the median month), and ``surplus_energy_gwh`` (the year's deliverable surplus energy, the
same model run against average rather than peak demand, the average being the peak × the national load
factor ``average_load_served_mw / peak_demand_mw``).

Every figure can be replaced from the study config; the ``*_basis`` columns and ``figures`` table say which
values were supplied and which are defaults, with their sources.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from siting._errors import ConfigError
from siting.config import Study
from siting.fields import F
from siting.io import reference
from siting.io.reference import Reference

MONTHS = [f"m{m:02d}" for m in range(1, 13)]
HOURS_IN_MONTH = np.array([calendar.monthrange(2023, m)[1] * 24 for m in range(1, 13)], dtype=float)
FUELS = ("coal", "oil_gas", "hydro", "nuclear", "bioenergy", "wind", "solar")


@dataclass
class SurplusModel:
    """The surplus model's tables.

    Attributes
    ----------
    provinces
        One row a province: capacity, demand share, firm / median surplus (MW), surplus energy (GWh), bases.
    monthly
        One row a province and month: available, demand, surplus, deliverable surplus (MW).
    figures
        Every input figure used, with its value, unit and basis ("study config" or the default's source).
    national
        Checks of the model against national facts.

    """

    provinces: pd.DataFrame
    monthly: pd.DataFrame
    figures: pd.DataFrame
    national: pd.DataFrame
    zones: object | None = None  # siting.model.zones.ZoneModel when the zonal model ran
    roster: pd.DataFrame | None = None  # capacity by status and fuel against published totals


def _check_codes(keys: object, valid: set[str], key: str) -> None:
    for code in keys:  # type: ignore[attr-defined]
        if code not in valid:
            raise ConfigError(f"surplus.{key}.{code}: unknown province code; use one of {', '.join(sorted(valid))}.")


def zonal_deliverable(surplus: np.ndarray, south: np.ndarray, transfer_mw: float) -> np.ndarray:
    """Deliverable surplus per province and month under a two-zone transfer limit.

    Parameters
    ----------
    surplus
        Surplus in MW, shape ``(provinces, months)``.
    south
        Boolean mask of the provinces in the southern (exporting) zone.
    transfer_mw
        Most that can move between the zones, either way.

    Returns
    -------
    ndarray
        Same shape: for surplus provinces their share of the zone's net positive balance after transfer;
        for deficit provinces their own (negative) surplus.

    """
    s = np.asarray(surplus, dtype=float)
    out = s.copy()
    zones = [south, ~south]
    balance = np.array([s[z].sum(axis=0) for z in zones])  # (2, months)
    # transfer from a zone in surplus to a zone in deficit, capped
    t_sn = np.minimum.reduce([np.full(s.shape[1], transfer_mw), np.maximum(balance[0], 0), np.maximum(-balance[1], 0)])
    t_ns = np.minimum.reduce([np.full(s.shape[1], transfer_mw), np.maximum(balance[1], 0), np.maximum(-balance[0], 0)])
    net = np.array([balance[0] - t_sn + t_ns, balance[1] + t_sn - t_ns])
    for z, zone in enumerate(zones):
        pos = np.maximum(s[zone], 0.0)
        total = pos.sum(axis=0)
        share = np.divide(pos, total, out=np.zeros_like(pos), where=total > 0)
        out[zone] = np.where(s[zone] > 0, share * np.maximum(net[z], 0.0), s[zone])
    return out


def _capacity_by_fuel(
    study: Study, codes: list[str], plants: gpd.GeoDataFrame, ref: Reference, roster: str = "gem"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    cfg = study.surplus
    if "origin" in plants.columns:
        plants = plants[plants["origin"] == "gem"] if roster == "gem" else plants[plants["counts"].astype(bool)]
    cap = (
        plants.groupby([F.ISO_3166_2, "tracker"])[F.CAPACITY_MW]
        .sum()
        .unstack(fill_value=0.0)
        .reindex(index=codes, columns=list(FUELS), fill_value=0.0)
    )
    basis = pd.DataFrame(
        "GEM operating units" if roster == "gem" else "counted plants", index=codes, columns=list(FUELS)
    )
    additions = ref.table("capacity_additions.csv") if roster == "gem" else ref.table("capacity_additions.csv").iloc[:0]
    for row in additions.itertuples():
        cap.loc[row.iso_3166_2, row.fuel] += row.capacity_mw
        basis.loc[row.iso_3166_2, row.fuel] = row.basis
    _check_codes(cfg.capacity_mw, set(codes), "capacity_mw")
    for code, by_fuel in cfg.capacity_mw.items():
        for fuel, mw in by_fuel.items():
            if fuel not in FUELS:
                raise ConfigError(f"surplus.capacity_mw.{code}.{fuel}: unknown fuel; use one of {', '.join(FUELS)}.")
            cap.loc[code, fuel] = mw
            basis.loc[code, fuel] = "study config"
    return cap, basis


def _availability(study: Study, ref: Reference) -> tuple[pd.DataFrame, dict[str, str]]:
    table = ref.table("availability.csv").set_index("fuel")
    avail = table[MONTHS].astype(float).reindex(list(FUELS))
    if avail.isna().any().any():
        missing = avail.index[avail.isna().any(axis=1)][0]
        raise ConfigError(
            f"{ref.where}/availability.csv lacks fuel '{missing}'; add its row (m01..m12, the share of capacity "
            f"available each month, 0-1) with its basis."
        )
    basis = table["basis"].to_dict()
    for fuel, values in study.surplus.availability.items():
        if fuel not in FUELS:
            raise ConfigError(f"surplus.availability.{fuel}: unknown fuel; use one of {', '.join(FUELS)}.")
        avail.loc[fuel] = values
        basis[fuel] = "study config"
    return avail, basis


def _monthly_peak(study: Study, ref: Reference) -> tuple[np.ndarray, str]:
    cfg = study.surplus
    if cfg.monthly_peak_demand_mw is not None:
        return np.asarray(cfg.monthly_peak_demand_mw, dtype=float), "study config"
    table = ref.table("demand_monthly.csv")
    if sorted(table["month"].tolist()) != list(range(1, 13)):
        raise ConfigError(
            f"{ref.where}/demand_monthly.csv has {len(table)} rows, not one for each month 1-12; give each month's "
            f"national peak demand (peak_demand_mw) with its basis, or set surplus.monthly_peak_demand_mw in the study."
        )
    profile = table.sort_values("month")["peak_demand_mw"].to_numpy(float)
    basis = "demand_monthly.csv: " + "; ".join(dict.fromkeys(table["basis"].astype(str)))
    if cfg.national_peak_demand_mw is not None:
        profile = profile * cfg.national_peak_demand_mw / profile.max()
        basis = "study config (national peak; monthly shape from demand_monthly.csv)"
    return profile, basis


def provincial_surplus(
    study: Study,
    provinces: gpd.GeoDataFrame,
    plants: gpd.GeoDataFrame,
    ref: Reference,
    zones: gpd.GeoDataFrame | None = None,
    roster: str = "gem",
) -> SurplusModel:
    """Run the monthly surplus model for every province.

    Parameters
    ----------
    study
        The study; its ``surplus`` section overrides defaults (provinces keyed by ISO 3166-2 code).
    provinces
        Province layer (``iso_3166_2, province, population``).
    plants
        Operating plants layer (``iso_3166_2, tracker, capacity_mw``).
    ref
        The region's reference tables and figures (the study's ``figures:`` applied).
    zones
        The network zones layer (or the study's own): when given, the zonal model runs too and the province
        table gains the hosting figures of its zones, ``national`` the old-versus-new comparison.
    roster
        ``gem`` (legacy: GEM operating units + capacity_additions.csv) or ``counted``.

    Returns
    -------
    SurplusModel

    """
    study = study.model_copy(update={"surplus": reference.normalise_province_keys(study.surplus, ref)})
    cfg = study.surplus
    codes = provinces[F.ISO_3166_2].tolist()
    valid = set(codes)
    for key in ("population", "surplus_mw"):
        _check_codes(getattr(cfg, key), valid, key)
    south_codes = (
        cfg.south_zone if cfg.south_zone is not None else ref.provinces.query("zone == 'south'")[F.ISO_3166_2].tolist()
    )
    _check_codes(south_codes, valid, "south_zone")

    ref_prov = ref.provinces.set_index(F.ISO_3166_2)
    pop = provinces.set_index(F.ISO_3166_2)[F.POPULATION].reindex(codes)
    pop = pd.Series([cfg.population.get(c, pop[c]) for c in codes], index=codes, dtype=float)
    share = pop / pop.sum()

    cap, cap_basis = _capacity_by_fuel(study, codes, plants, ref, roster)
    avail, avail_basis = _availability(study, ref)
    peak, peak_basis = _monthly_peak(study, ref)
    # national figures honour the study's `figures:` overrides like every other stage
    average_load, load_basis = ref.figure("average_load_served_mw")
    published_peak, peak_fig_basis = ref.figure("peak_demand_mw")
    load_factor = average_load / published_peak
    load_factor_basis = f"average load served ({load_basis}) / peak demand ({peak_fig_basis})"
    south = np.array([c in set(south_codes) for c in codes])
    if cfg.south_north_transfer_mw is not None:
        transfer, transfer_basis = cfg.south_north_transfer_mw, "study config"
    elif not south.any():  # one zone: nothing to transfer, and no figure to ask the planner for
        transfer, transfer_basis = 0.0, "no province in the south zone (provinces.csv zone): one zone, no transfer"
    else:
        transfer, transfer_basis = ref.figure("south_north_transfer_mw")

    available = cap.to_numpy() @ avail.to_numpy()  # (provinces, months)
    demand = np.outer(share.to_numpy(), peak)
    surplus = available - demand
    for code, mw in cfg.surplus_mw.items():
        surplus[codes.index(code)] = mw
    deliverable = zonal_deliverable(surplus, south, transfer)
    surplus_avg = available - demand * load_factor
    for code, mw in cfg.surplus_mw.items():
        surplus_avg[codes.index(code)] = mw
    deliverable_avg = zonal_deliverable(surplus_avg, south, transfer)

    table = pd.DataFrame({F.ISO_3166_2: codes, F.PROVINCE: provinces[F.PROVINCE].to_numpy()})
    table[F.POPULATION] = pop.to_numpy()
    table[F.DEMAND_SHARE] = share.to_numpy()
    table[F.CAPACITY_MW] = cap.sum(axis=1).to_numpy()
    for fuel in FUELS:
        table[f"capacity_{fuel}_mw"] = cap[fuel].to_numpy()
    table[F.PEAK_DEMAND_MW] = demand.max(axis=1)
    table["zone"] = np.where(south, "south", "north")
    table[F.FIRM_SURPLUS_MW] = deliverable.min(axis=1)
    table[F.SURPLUS_MW] = np.median(deliverable, axis=1)
    table[F.SURPLUS_ENERGY_GWH] = (np.maximum(deliverable_avg, 0.0) * HOURS_IN_MONTH).sum(axis=1) / 1000.0
    table["worst_month"] = [calendar.month_abbr[i + 1] for i in deliverable.argmin(axis=1)]
    table["population_basis"] = [
        "study config" if c in cfg.population else str(ref_prov.loc[c, "population_basis"]) for c in codes
    ]
    table["capacity_basis"] = [
        "study config" if (cap_basis.loc[c] == "study config").any() else "GEM operating units + reference additions"
        for c in codes
    ]
    table["surplus_basis"] = [
        "study config (all months)" if c in cfg.surplus_mw else "monthly model, zonal deliverability" for c in codes
    ]

    monthly = pd.DataFrame(
        {
            F.ISO_3166_2: np.repeat(codes, 12),
            F.PROVINCE: np.repeat(table[F.PROVINCE].to_numpy(), 12),
            "month": np.tile(np.arange(1, 13), len(codes)),
            "available_mw": available.ravel(),
            "demand_mw": demand.ravel(),
            F.SURPLUS_MW: surplus.ravel(),
            "deliverable_surplus_mw": deliverable.ravel(),
        }
    )
    figures = _figures(
        cap, cap_basis, avail, avail_basis, peak, peak_basis, transfer, transfer_basis, load_factor, load_factor_basis
    )
    national = national_checks(ref, table, peak)
    model = SurplusModel(table, monthly, figures, national)
    if zones is None or "counts" not in plants.columns:
        return model
    return with_zones(model, study, provinces, plants, zones, ref)


ZONE_COLUMNS = (
    F.HOSTING_FIRM_MW,
    F.HOSTING_INT_1PCT_MW,
    F.HOSTING_INT_5PCT_MW,
    F.RUN_SHARE_100MW,
    F.HOSTING_ENERGY_GWH,
)


def province_zones(provinces: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, min_share: float = 0.001) -> pd.DataFrame:
    """Which zones cover each province: ``iso_3166_2, zone, area_share`` (shares of the province's area)."""
    p = provinces[[F.ISO_3166_2, "geometry"]].to_crs(6933)
    z = zones[[F.ZONE, "geometry"]].to_crs(6933)
    inter = gpd.overlay(p, z, how="intersection", keep_geom_type=True)
    inter["area"] = inter.geometry.area
    total = inter.groupby(F.ISO_3166_2)["area"].transform("sum")
    inter["area_share"] = inter["area"] / total
    return inter.loc[inter["area_share"] >= min_share, [F.ISO_3166_2, F.ZONE, "area_share"]].reset_index(drop=True)


def with_zones(
    model: SurplusModel,
    study: Study,
    provinces: gpd.GeoDataFrame,
    plants: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    ref: Reference,
) -> SurplusModel:
    """Add the zonal model: per province the hosting of the zones it lies in (the best of them), old vs new."""
    from siting.model import zones as zonal

    zm = zonal.solve(study, zones, plants, ref)
    counted = provincial_surplus(study, provinces, plants, ref, roster="counted")
    cover = province_zones(provinces, zones)
    by_zone = zm.zones.set_index(F.ZONE)
    table = model.provinces.copy()
    table = table.rename(columns={"zone": "legacy_zone"})
    best = {}
    for code in table[F.ISO_3166_2]:
        zs = cover.loc[cover[F.ISO_3166_2] == code].sort_values("area_share", ascending=False)[F.ZONE].tolist()
        best[code] = zs
    table[F.ZONE] = [" | ".join(best[c]) for c in table[F.ISO_3166_2]]
    for col in ZONE_COLUMNS:
        table[col] = [max((by_zone.loc[z, col] for z in best[c]), default=0.0) for c in table[F.ISO_3166_2]]
    cnt = counted.provinces.set_index(F.ISO_3166_2)
    table["firm_surplus_counted_roster_mw"] = table[F.ISO_3166_2].map(cnt[F.FIRM_SURPLUS_MW]).to_numpy()
    table["capacity_counted_mw"] = table[F.ISO_3166_2].map(cnt[F.CAPACITY_MW]).to_numpy()
    roster = roster_reconciliation(plants, ref)
    national = pd.concat(
        [model.national.assign(old_model=np.nan), old_vs_new(table, zm, model, ref), roster_checks(roster, zm, ref)],
        ignore_index=True,
    )[["check", "old_model", "model", "published", "difference", "note"]]
    figures = pd.concat([model.figures, zm.figures], ignore_index=True)
    return SurplusModel(table, model.monthly, figures, national, zm, roster)


def roster_reconciliation(plants: gpd.GeoDataFrame, ref: Reference) -> pd.DataFrame:
    """Capacity (MW) by status, origin and fuel, and whether it counts."""
    g = plants.groupby(["counts", "status", "origin", "tracker"])[F.CAPACITY_MW].sum().reset_index()
    return g.sort_values(["counts", "status", "tracker"], ascending=[False, True, True]).reset_index(drop=True)


def roster_checks(roster: pd.DataFrame, zm, ref: Reference) -> pd.DataFrame:
    """Compare counted capacity with the published firm and installed figures, the gap itemised."""
    firm, firm_src = ref.figure("firm_capacity_mw")
    installed, inst_src = ref.figure("installed_capacity_mw")
    net_metered, nm_src = ref.figure("net_metered_solar_mw")
    tol, tol_src = ref.figure("firm_reconciliation_tolerance")
    counted = float(roster.loc[roster["counts"], F.CAPACITY_MW].sum())
    excluded = roster.loc[~roster["counts"]]
    gem = float(roster.loc[roster["origin"] == "gem", F.CAPACITY_MW].sum())
    added = roster.loc[roster["origin"] != "gem"].groupby("origin")[F.CAPACITY_MW].sum()
    rows = [
        ("roster: GEM operating units (MW)", gem, np.nan, "GEM trackers in the mirror"),
        *[
            (f"roster: not counted, {st} (MW)", -mw, np.nan, "plant_status.csv")
            for st, mw in excluded.groupby("status")[F.CAPACITY_MW].sum().items()
        ],
        *[(f"roster: added from {o} (MW)", mw, np.nan, f"{o}.csv") for o, mw in added.items()],
        *_by_fuel_checks(roster, ref),
        (
            "counted capacity vs firm capacity (MW)",
            counted,
            firm,
            f"published firm capacity: {firm_src}; within tolerance {tol:g} ({tol_src}): "
            f"{abs(counted - firm) <= tol * firm}",
        ),
        (
            "counted + not counted vs installed excl. net metering (MW)",
            float(roster[F.CAPACITY_MW].sum()),
            installed - net_metered,
            f"installed {installed:,.0f} MW ({inst_src}) less net-metered solar {net_metered:,.0f} MW ({nm_src}); "
            "the rest is captive plants and units GEM does not list",
        ),
    ]
    out = pd.DataFrame(rows, columns=["check", "model", "published", "note"])
    out["difference"] = out["model"] - out["published"]
    out["old_model"] = np.nan
    return out


EMBER_FUEL = {"coal": "coal", "gas": "oil_gas", "hydro": "hydro", "nuclear": "nuclear", "wind": "wind",
              "solar": "solar", "biomass": "bioenergy"}  # fmt: skip


def _by_fuel_checks(roster: pd.DataFrame, ref: Reference) -> list[tuple]:
    """Compare counted MW by fuel with Ember's national capacity by fuel (``national_capacity_by_fuel.csv``)."""
    ember = ref.table("national_capacity_by_fuel.csv")
    counted = roster[roster["counts"]].groupby("tracker")[F.CAPACITY_MW].sum()
    rows = []
    for r in ember.itertuples():
        fuel = EMBER_FUEL.get(r.fuel)
        if fuel is None:
            continue  # Ember's "unknown" has no counterpart in the roster
        rows.append((f"roster: counted {fuel} vs Ember {r.fuel} {r.year} (MW)", float(counted.get(fuel, 0.0)),
                     float(r.capacity_mw), "not an item of the sum; " + str(r.source)))  # fmt: skip
    return rows


def old_vs_new(table: pd.DataFrame, zm, model: SurplusModel, ref: Reference) -> pd.DataFrame:
    """Per province and zone: the legacy figure, the roster-corrected one and the zonal hosting capacity."""
    rows = []
    for r in table.itertuples():
        rows.append(
            (
                f"firm surplus {r.iso_3166_2} (MW): legacy vs counted roster",
                r.firm_surplus_mw,
                r.firm_surplus_counted_roster_mw,
                "legacy provincial model; same formula, corrected roster",
            )
        )
        rows.append(
            (
                f"firm surplus {r.iso_3166_2} (MW): legacy vs zonal firm hosting",
                r.firm_surplus_mw,
                getattr(r, F.HOSTING_FIRM_MW),
                f"zonal LP, zone(s) {r.zone}",
            )
        )
        rows.append((f"interruptible {r.iso_3166_2} (MW): legacy median vs hosting at <=1 % curtailment",
                     r.surplus_mw, getattr(r, F.HOSTING_INT_1PCT_MW), f"zonal LP, zone(s) {r.zone}"))  # fmt: skip
    legacy = model.provinces.groupby("zone")[F.FIRM_SURPLUS_MW].apply(lambda v: v.clip(lower=0).sum())
    zones_tab = ref.table("zones.csv").set_index("zone")
    for z in zm.zones.itertuples():
        codes = str(zones_tab.loc[z.zone, "provinces"]).split("|") if z.zone in zones_tab.index else []
        old_zone = model.provinces.loc[model.provinces[F.ISO_3166_2].isin(codes), "zone"]
        old = float(legacy.get(old_zone.iloc[0], np.nan)) if len(old_zone) else np.nan
        rows.append((f"zone {z.zone} firm (MW): legacy zone total vs hosting", old, getattr(z, F.HOSTING_FIRM_MW),
                     f"legacy zone = {old_zone.iloc[0] if len(old_zone) else '-'} provinces' positive firm surplus; "
                     f"worst month {z.firm_worst_month}"))  # fmt: skip
        rows.append(
            (
                f"zone {z.zone} interruptible <=1 % / <=5 % (MW)",
                getattr(z, F.HOSTING_INT_1PCT_MW),
                getattr(z, F.HOSTING_INT_5PCT_MW),
                "old_model column holds the 1 % figure, model the 5 %",
            )
        )
    avg = float(
        (zm.monthly.groupby("month")["average_mw"].sum().to_numpy() * HOURS_IN_MONTH).sum() / HOURS_IN_MONTH.sum()
    )
    old_avg, old_src = ref.figure("average_load_served_mw")
    nat_avg, nat_src = ref.figure("fy25_national_average_load_mw")
    rows.append(
        (
            "average load (MW): legacy figure vs zone demand",
            old_avg,
            avg,
            f"legacy: {old_src}; FY25 national average {nat_avg:,.0f} MW ({nat_src})",
        )
    )
    out = pd.DataFrame(rows, columns=["check", "old_model", "model", "note"])
    out["published"] = np.nan
    out.loc[out["check"].str.startswith("average load"), "published"] = nat_avg
    out["difference"] = out["model"] - out["old_model"]
    return out


def _figures(
    cap, cap_basis, avail, avail_basis, peak, peak_basis, transfer, transfer_basis, load_factor, load_factor_basis
) -> pd.DataFrame:
    rows = []
    for code in cap.index:
        for fuel in FUELS:
            if cap.loc[code, fuel] > 0:
                rows.append((f"capacity_mw.{code}.{fuel}", cap.loc[code, fuel], "MW", cap_basis.loc[code, fuel]))
    for fuel in FUELS:
        rows.append(
            (f"availability.{fuel}", ";".join(f"{v:g}" for v in avail.loc[fuel]), "0-1 by month", avail_basis[fuel])
        )
    rows.append(("monthly_peak_demand_mw", ";".join(f"{v:.0f}" for v in peak), "MW by month", peak_basis))
    rows.append(("south_north_transfer_mw", transfer, "MW", transfer_basis))
    rows.append(("load_factor", round(load_factor, 4), "", load_factor_basis))
    return pd.DataFrame(rows, columns=["figure", "value", "unit", "basis"])


def national_checks(ref: Reference, table: pd.DataFrame, peak: np.ndarray) -> pd.DataFrame:
    """Compare the model's national totals with published national figures.

    Returns
    -------
    DataFrame
        ``check, model, published, difference, note``.

    """
    installed, installed_src = ref.published("installed_capacity_mw")
    net_metered, _ = ref.published("net_metered_solar_mw")
    peak_published, peak_src = ref.published("peak_demand_mw")
    trough_published, trough_src = ref.published("winter_trough_demand_mw")
    rows = [
        (
            "installed capacity (MW)",
            table[F.CAPACITY_MW].sum(),
            installed,
            f"{installed_src}; the data lacks net-metered rooftop solar ({net_metered:,.0f} MW in the "
            "published total), captive plants and units GEM does not list; it includes the wind and utility solar "
            "of capacity_additions.csv",
        ),
        ("summer peak demand (MW)", peak.max(), peak_published, peak_src),
        ("winter trough demand (MW)", peak.min(), trough_published, trough_src),
    ]
    out = pd.DataFrame(rows, columns=["check", "model", "published", "note"])
    out.insert(3, "difference", out["model"] - out["published"])
    return out
