"""A planner's own files: candidate sites and layer overrides (substations), checked before they are used.

Accepted formats: CSV (longitude/latitude columns detected by name, decimal degrees WGS84; Excel's BOM and
``;`` separators are fine), GeoPackage, Shapefile, GeoJSON and GeoParquet in any coordinate reference system
(reprojected to EPSG:4326). Every problem ends in one :class:`~siting._errors.DataError` sentence that names
the file and the row, says what is wrong and how to fix it; nothing is silently repaired (swapped latitude
and longitude are refused, not swapped back).
"""

from __future__ import annotations

import csv
import glob
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from siting._errors import DataError
from siting.fields import F
from siting.io.safe import regular_file, text_encoding

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".parquet", ".zip")
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "lon_dd", "longitude_dd", "easting_deg")
LAT_NAMES = ("lat", "latitude", "y", "lat_dd", "latitude_dd")
ID_NAMES = ("id", "site_id", "candidate_id", "siteid", "code", "fid")
NAME_NAMES = ("name", "site_name", "site", "sitename", "label")
VOLTAGE_NAMES = ("voltage_kv", "voltage", "kv", "voltagekv", "voltage_level", "voltages")
CANDIDATE_ID = "candidate_id"
CANDIDATE_NAME = "candidate_name"


def _key(column: object) -> str:
    """Header compared case-insensitively, ignoring spaces, brackets and units punctuation."""
    return re.sub(r"[^0-9a-z_]", "", str(column).strip().lower().replace(" ", "_")).strip("_")


def find_column(columns: object, names: tuple[str, ...]) -> str | None:
    """Return the first column whose header matches one of ``names`` (case-insensitive; "Voltage (kV)" → voltage_kv)."""
    by_key: dict[str, str] = {}
    for col in columns:  # type: ignore[attr-defined]
        by_key.setdefault(_key(col), col)
    for name in names:
        if name in by_key:
            return by_key[name]
    return None


def _row_label(path: Path, i: int) -> str:
    """How a user finds record ``i`` (0-based): the spreadsheet row for CSV (header is row 1), else the feature."""
    return f"row {i + 2}" if path.suffix.lower() in CSV_SUFFIXES else f"feature {i + 1}"


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    detected = text_encoding(path)  # a BOM or UTF-16; otherwise UTF-8, then Windows-1252 (Excel's "CSV")
    for encoding in (detected,) if detected else ("utf-8-sig", "cp1252"):
        try:
            return pd.read_csv(
                path,
                sep=None,
                engine="python",
                encoding=encoding,
                dtype=str,
                skipinitialspace=True,
                keep_default_na=False,
                na_values=[""],  # a site named "NA" or a cell "nan" stays text
            )
        except UnicodeError:
            if detected:
                raise DataError(
                    f"{path} ({what}) starts like {detected} text but does not decode as it; save it as UTF-8 CSV."
                ) from None
            continue
        except pd.errors.EmptyDataError as exc:
            raise DataError(f"{path} ({what}) has no rows; export the table again with its header row.") from exc
        except (pd.errors.ParserError, csv.Error) as exc:
            raise DataError(
                f"{path} ({what}) could not be read as CSV ({str(exc).splitlines()[0].rstrip('.')}); "
                f"save it again as comma-separated values."
            ) from exc
    raise DataError(f"{path} ({what}) is neither UTF-8 nor Windows-1252 text; save it as UTF-8 CSV.")


def _points_from_table(df: pd.DataFrame, path: Path, what: str) -> gpd.GeoDataFrame:
    lon_col, lat_col = find_column(df.columns, LON_NAMES), find_column(df.columns, LAT_NAMES)
    if lon_col is None or lat_col is None:
        found = ", ".join(str(c) for c in df.columns[:12]) or "none"
        raise DataError(
            f"{path} ({what}) has no longitude/latitude columns (columns: {found}); name them lon and lat "
            f"(or longitude/latitude, x/y) holding decimal degrees."
        )
    coords = {}
    for col in (lon_col, lat_col):
        text = df[col].astype("string").str.strip().str.replace(",", ".", regex=False)
        num = pd.to_numeric(text, errors="coerce")
        bad = np.flatnonzero(num.isna().to_numpy())
        if bad.size:
            i = int(bad[0])
            raise DataError(
                f"{path} ({what}) {_row_label(path, i)}: {col} {df[col].iloc[i]!r} is not a number; write "
                f"decimal degrees such as 67.0011 (no degree signs or N/E letters) and no empty cells."
            )
        values = num.to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            i = int(bad[0])
            raise DataError(
                f"{path} ({what}) {_row_label(path, i)}: {col} {df[col].iloc[i]!r} is not a finite number; write "
                f"decimal degrees such as 67.0011."
            )
        coords[col] = values
    rest = df.drop(columns=[lon_col, lat_col])
    return gpd.GeoDataFrame(rest, geometry=gpd.points_from_xy(coords[lon_col], coords[lat_col]), crs=4326)


def read_file(path: str | Path, what: str, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a user's CSV or vector file into EPSG:4326, refusing what cannot be trusted.

    Parameters
    ----------
    path
        The file.
    what
        What it holds, for messages.
    layer
        The layer to read from a file with several (a GeoPackage); a file with several layers and no
        ``layer`` is refused rather than read in part.

    Raises
    ------
    DataError
        Missing, empty or not a regular file (a folder, FIFO or device), unreadable content, several layers
        and none named, a Shapefile without its .shx or .dbf, no geometry, multi-part or collection
        geometries, no CRS, non-finite coordinates, or coordinates that are not degrees although labelled so
        (projected metres with a WGS84 label).

    """
    path = Path(path)
    regular_file(path, what)  # before anything opens it: a FIFO would block, a folder is read as something else
    if path.stat().st_size == 0:
        raise DataError(f"{path} ({what}) is empty (0 bytes); export the file again.")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        if layer is not None:
            raise DataError(f"{path} ({what}) is a CSV file with no layers; drop --layer {layer}.")
        gdf = _points_from_table(_read_csv(path, what), path, what)
    elif suffix in VECTOR_SUFFIXES:
        gdf = _read_vector(path, what, layer)
    else:
        raise DataError(
            f"{path} ({what}) has an unknown file type {suffix or '(none)'}; use CSV, GeoPackage (.gpkg), "
            f"Shapefile (.shp), GeoJSON or GeoParquet."
        )
    if len(gdf) == 0:
        raise DataError(f"{path} ({what}) has no rows; export the table again with its data.")
    gdf = gdf.reset_index(drop=True)
    empty = np.flatnonzero((gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy())
    if empty.size:
        raise DataError(
            f"{path} ({what}) {_row_label(path, int(empty[0]))} has no geometry; give it coordinates or delete it."
        )
    _check_geometries(gdf, path, what)
    if gdf.crs.is_geographic:
        _check_degrees(gdf, path, what)
    return gdf.to_crs(4326) if gdf.crs.to_epsg() != 4326 else gdf


def _read_vector(path: Path, what: str, layer: str | None) -> gpd.GeoDataFrame:
    suffix = path.suffix.lower()
    if suffix == ".shp":
        _check_companions(path, what)
    try:
        if suffix == ".parquet":
            gdf = gpd.read_parquet(path)
        else:
            gdf = gpd.read_file(path, engine="pyogrio", layer=_one_layer(path, what, layer))
    except DataError:
        raise
    except Exception as exc:  # pyogrio / arrow raise many types for corrupt files
        hint = " (a Shapefile needs its .shx and .dbf beside the .shp)" if suffix == ".shp" else ""
        raise DataError(
            f"{path} ({what}) could not be read as a {suffix.lstrip('.') or 'vector'} file{hint}; "
            f"export it again from the GIS (GeoPackage is safest)."
        ) from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise DataError(
            f"{path} ({what}) holds a table without geometry (a CSV inside a zip?); give the CSV itself or "
            f"export the layer with its geometry."
        )
    if gdf.crs is None:
        raise DataError(
            f"{path} ({what}) has no coordinate reference system (a Shapefile without its .prj?); set it "
            f"(QGIS: Layer > Set CRS; or ogr2ogr -a_srs EPSG:<code>) and try again."
        )
    return gdf


def _one_layer(path: Path, what: str, layer: str | None) -> str | None:
    """Return the layer to read: ``layer`` if the file has it, None if it has one layer; else refuse."""
    try:
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except Exception:  # unreadable: let the reader give its message
        return layer
    if layer is not None and layer not in names:
        raise DataError(f"{path} ({what}) has no layer {layer!r}; its layers are {', '.join(names)}.")
    if layer is None and len(names) > 1:
        how = "name the one to score with --layer (or export it to its own file)"
        raise DataError(
            f"{path} ({what}) has {len(names)} layers ({', '.join(names[:10])}); "
            f"{how if what == 'candidate sites' else 'export the one to use to its own file'}."
        )
    return layer


def _check_companions(path: Path, what: str) -> None:
    """Refuse a Shapefile without its .shx (the shapes) or .dbf (the ids and names)."""
    present = {p.suffix.lower() for p in path.parent.glob(f"{glob.escape(path.stem)}.*")}
    for ext, holds in ((".shx", "its shape index"), (".dbf", "its attributes (ids, names)")):
        if ext not in present:
            raise DataError(
                f"{path} ({what}) has no {ext} beside it, which holds {holds}; copy all the Shapefile's files "
                f"(.shp, .shx, .dbf, .prj) together, or export a GeoPackage."
            )


def _check_geometries(gdf: gpd.GeoDataFrame, path: Path, what: str) -> None:
    """Refuse geometries that hold several sites (multi-points, collections) and non-finite coordinates."""
    kinds = gdf.geom_type.to_numpy()
    parts = shapely.get_num_geometries(gdf.geometry.values)
    several = ((kinds == "MultiPoint") & (parts > 1)) | (kinds == "GeometryCollection")
    if several.any():
        i = int(np.flatnonzero(several)[0])
        raise DataError(
            f"{path} ({what}) {_row_label(path, i)} is a {kinds[i]} of {int(parts[i])} parts, which would be scored "
            f"as one site ({int(several.sum())} of {len(gdf)} features like this); split them into one feature per "
            f"site (QGIS: Vector > Geometry Tools > Multipart to Singleparts)."
        )
    xy = shapely.get_coordinates(gdf.geometry.values)
    if not np.isfinite(xy).all():
        index = shapely.get_coordinates(gdf.geometry.values, return_index=True)[1]
        i = int(index[np.flatnonzero(~np.isfinite(xy).all(axis=1))[0]])
        raise DataError(
            f"{path} ({what}) {_row_label(path, i)} has a coordinate that is not a finite number (inf or NaN); "
            f"correct it or delete the feature."
        )


def _check_degrees(gdf: gpd.GeoDataFrame, path: Path, what: str) -> None:
    xy = shapely.get_coordinates(gdf.geometry.values)
    bad = np.flatnonzero((np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90))
    if bad.size:
        x, y = xy[bad[0]]
        where = f"{_row_label(path, int(bad[0]))} has " if len(xy) == len(gdf) else "has coordinates like "
        raise DataError(
            f"{path} ({what}) {where}({x:.6g}, {y:.6g}), which are not degrees although the file says "
            f"{gdf.crs.name}: these look like projected metres (e.g. UTM zone 42N, EPSG:32642); set the file's "
            f"real CRS (or convert the coordinates to WGS84 degrees) and try again."
        )


def _check_swapped(xy: np.ndarray, outline: shapely.Geometry, path: Path, what: str, region: str) -> np.ndarray:
    """Mask of points inside ``outline``; refuse points outside that would be inside with x and y swapped."""
    shapely.prepare(outline)
    inside = shapely.contains_xy(outline, xy[:, 0], xy[:, 1])
    swapped = ~inside & shapely.contains_xy(outline, xy[:, 1], xy[:, 0])
    if swapped.any():
        i = int(np.flatnonzero(swapped)[0])
        x0, _, x1, _ = outline.bounds
        raise DataError(
            f"{path} ({what}) {_row_label(path, i)}: ({xy[i, 0]:.6g}, {xy[i, 1]:.6g}) lies outside {region} but "
            f"inside with latitude and longitude swapped ({int(swapped.sum())} of {len(xy)} points like this); "
            f"swap the two columns (longitude is east-west, {x0:.0f} to {x1:.0f} here)."
        )
    return inside


def _check_in_region(
    xy: np.ndarray, outline: shapely.Geometry, path: Path, what: str, region: str, drop_outside: bool
) -> tuple[np.ndarray, list[str]]:
    """Mask of points inside ``outline``; refuse swapped coordinates and (unless dropping) outside points."""
    inside = _check_swapped(xy, outline, path, what, region)
    if inside.all():
        return inside, []
    outside = np.flatnonzero(~inside)
    first = int(outside[0])
    if outside.size == len(xy):
        raise DataError(
            f"{path} ({what}): none of its {len(xy)} points lies inside {region}, the first at "
            f"{_row_label(path, first)} ({xy[first, 0]:.6g}, {xy[first, 1]:.6g}); check the coordinates and the "
            f"file's coordinate reference system."
        )
    if not drop_outside:
        raise DataError(
            f"{path} ({what}): {outside.size} of {len(xy)} points lie outside {region}, the first at "
            f"{_row_label(path, first)} ({xy[first, 0]:.6g}, {xy[first, 1]:.6g}); correct them, or pass "
            f"--drop-outside to score the rest."
        )
    rows = ", ".join(_row_label(path, int(i)) for i in outside[:5]) + (", ..." if outside.size > 5 else "")
    return inside, [f"{path}: dropped {outside.size} of {len(xy)} points outside {region} ({rows})."]


def _ids(gdf: gpd.GeoDataFrame, path: Path, what: str, names: tuple[str, ...]) -> pd.Series:
    col = find_column(gdf.columns.drop("geometry"), names)
    if col is None:
        return pd.Series([str(i + 1) for i in range(len(gdf))], index=gdf.index)
    ids = gdf[col].astype("string").str.strip()
    blank = np.flatnonzero((ids.isna() | (ids == "")).to_numpy())
    if blank.size:
        raise DataError(
            f"{path} ({what}) {_row_label(path, int(blank[0]))} has no {col}; give every row a unique {col}."
        )
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        first = ids[dup].iloc[0]
        rows = [_row_label(path, int(i)) for i in np.flatnonzero((ids == first).to_numpy())]
        raise DataError(
            f"{path} ({what}) repeats {col} {first!r} ({' and '.join(rows[:3])}); give every row a unique {col}."
        )
    return ids.astype(object)


def _as_points(gdf: gpd.GeoDataFrame) -> gpd.GeoSeries:
    geom = gdf.geometry
    return geom if (geom.geom_type == "Point").all() else geom.representative_point()


def read_points(
    path: str | Path,
    outline: shapely.Geometry,
    region: str = "the study region",
    drop_outside: bool = False,
    layer: str | None = None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read a planner's candidate sites: ``candidate_id``, ``candidate_name`` (if given), ``lon``, ``lat``, points.

    Parameters
    ----------
    path
        CSV with longitude/latitude columns (``lon|lng|longitude|x``, ``lat|latitude|y``, any case) and an
        optional ``id`` and ``name``; or a GeoPackage, Shapefile, GeoJSON or GeoParquet in any CRS.
        Polygons and lines are reduced to a point inside them.
    outline
        The region's outline (EPSG:4326); every point must fall inside it.
    region
        The region's name, for messages.
    drop_outside
        Drop points outside the region (listed in the returned warnings) instead of refusing the file.
    layer
        The layer of a file with several (a GeoPackage).

    Returns
    -------
    (GeoDataFrame, list of str)
        The points, in file order, and warnings for the user.

    Raises
    ------
    DataError
        Missing or empty file, no CRS, projected coordinates labelled as degrees, latitude and longitude
        swapped, points outside the region, blank or repeated ids.

    """
    path = Path(path)
    what = "candidate sites"
    gdf = read_file(path, what, layer)
    ids = _ids(gdf, path, what, ID_NAMES)
    name_col = find_column(gdf.columns.drop("geometry"), NAME_NAMES)
    pts = _as_points(gdf)
    xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    keep, warnings = _check_in_region(xy, outline, path, what, region, drop_outside)
    out = pd.DataFrame({CANDIDATE_ID: ids.to_numpy()})
    if name_col is not None and name_col != ids.name:
        out[CANDIDATE_NAME] = gdf[name_col].astype("string").fillna("").astype(object).to_numpy()
    out[F.LON], out[F.LAT] = xy[:, 0], xy[:, 1]
    out = out[keep].reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out[F.LON], out[F.LAT]), crs=4326), warnings


MAX_KV = 1200.0  # above the highest AC (1150 kV) and DC (1100 kV) transmission anywhere
_SIGNED_OR_EXPONENT = re.compile(r"(^|[^\w.])[-−+]\s*\d|\d[eE][-+]?\d|inf|nan", re.IGNORECASE)


def _check_voltages(raw: pd.Series, kv: pd.Series, blank: pd.Series, path: Path, what: str) -> None:
    """Refuse voltages the parser would misread: signs, exponents, inf/NaN, and values outside 0..1200 kV."""
    text = raw.astype("string").fillna("").str.strip()
    numeric = pd.api.types.is_numeric_dtype(raw)
    for i in range(len(raw)):
        if blank.iloc[i]:
            continue
        cell, value = text.iloc[i], kv.iloc[i]
        if numeric:
            number = float(raw.iloc[i])
            odd = not np.isfinite(number) or number <= 0
        else:
            odd = bool(_SIGNED_OR_EXPONENT.search(cell))
        if odd or value > MAX_KV:
            raise DataError(
                f"{path} ({what}) {_row_label(path, i)}: voltage {cell!r} is not a voltage between 0 and "
                f"{MAX_KV:g} kV; write a positive number in kV such as 220 (volts such as 220000 are read too) "
                f"without signs or exponents."
            )


def read_substations(
    path: str | Path, outline: shapely.Geometry | None = None, region: str = "the region"
) -> gpd.GeoDataFrame:
    """Read a planner's grid-station list as a substations layer (schema of ``siting.layers.grid``).

    The voltage column (``voltage_kv``, ``voltage``, ``kv``, "Voltage (kV)", any case) is parsed with
    :func:`siting.layers.grid.parse_voltage_kv`: ``132``, ``"132kV"``, ``"132 KV"``, ``"132000;11000"``
    (volts, highest wins). An empty cell means unknown (the station is not used as a connection point);
    anything else unreadable is refused. ``voltage_source`` is ``"user file"``. Every station is a
    ``grid_station`` (a connection point) unless the file has a ``kind`` column (grid_station, hvdc_converter,
    plant_switchyard, traction, unknown; empty means grid_station); ``kind_basis`` is ``"user file"``.

    Raises
    ------
    DataError
        As :func:`read_file`, plus: no voltage column, an unreadable voltage, no voltage at all, repeated
        ids, or (with ``outline``) latitude and longitude swapped.

    """
    from siting.io.validate import check_schema
    from siting.layers.grid import SUBSTATION_SCHEMA, parse_voltage_kv
    from siting.layers.substation_kind import KINDS

    path = Path(path)
    what = "substations"
    gdf = read_file(path, what)
    vcol = find_column(gdf.columns.drop("geometry"), VOLTAGE_NAMES)
    if vcol is None:
        found = ", ".join(str(c) for c in gdf.columns.drop("geometry")[:12]) or "none"
        raise DataError(
            f"{path} ({what}) has no voltage column (columns: {found}); add one named voltage_kv with values "
            f'such as 132, 220 or 500 ("132kV", "220 KV" and "500000;220000" are read too).'
        )
    raw = gdf[vcol]
    kv = raw.map(parse_voltage_kv).astype(float)
    blank = raw.isna() | (raw.astype("string").str.strip() == "")
    _check_voltages(raw, kv, blank, path, what)
    bad = np.flatnonzero((kv.isna() & ~blank).to_numpy())
    if bad.size:
        i = int(bad[0])
        raise DataError(
            f"{path} ({what}) {_row_label(path, i)}: voltage {raw.iloc[i]!r} is not a voltage; write it in kV "
            f"(e.g. 220) or leave the cell empty if unknown."
        )
    if kv.isna().all():
        raise DataError(f"{path} ({what}) column {vcol!r} is empty in every row; fill in the voltages in kV.")
    ids = _ids(gdf, path, what, ID_NAMES)
    pts = _as_points(gdf)
    if outline is not None:  # stations across the border are fine; swapped coordinates are not
        _check_swapped(np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()]), outline, path, what, region)
    name_col = find_column(gdf.columns.drop("geometry"), NAME_NAMES)
    op_col = find_column(gdf.columns.drop("geometry"), ("operator", "owner", "utility", "company"))

    def text(col: str | None) -> np.ndarray:
        if col is None:
            return np.full(len(gdf), "", dtype=object)
        return gdf[col].astype("string").fillna("").astype(object).to_numpy()

    out = gpd.GeoDataFrame(
        {
            "osm_id": ids.astype(str).to_numpy(dtype=object),
            F.NAME: text(name_col),
            "operator": text(op_col),
            F.VOLTAGE_KV: kv.to_numpy(),
            F.VOLTAGE_SOURCE: np.where(kv.notna(), "user file", "unknown").astype(object),
        },
        geometry=pts.values,
        crs=4326,
    )
    kind_col = find_column(gdf.columns.drop("geometry"), ("kind", "type", "station_kind"))
    if kind_col is None:  # a planner's grid-station list: every row is a grid station
        out[F.KIND], out[F.KIND_BASIS] = "grid_station", "user file"
    else:
        kinds = pd.Series(text(kind_col)).str.strip().str.lower().str.replace(" ", "_")
        kinds = kinds.where(kinds != "", "grid_station")
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown:
            raise DataError(
                f"{path} ({what}) column {kind_col!r}: unknown kind(s) {', '.join(map(repr, unknown))}; use one of "
                f"{', '.join(KINDS)} (empty means grid_station)."
            )
        out[F.KIND], out[F.KIND_BASIS] = kinds.to_numpy(dtype=object), "user file"
    check_schema(out, SUBSTATION_SCHEMA, "substations", ("Point",))
    return out
