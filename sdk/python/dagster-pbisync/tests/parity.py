"""Comparing dagster-powerbi's specs with dagster-pbisync's for one workspace, with every
deliberate difference named (the dagster-powerbi defects pbisync fixes, listed in
shared/reference/dagster-powerbi.md, and pbisync's own M lineage)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dagster import AssetKey, AssetSpec
from dagster._core.definitions.metadata import normalize_metadata_value

# The deliberate differences, each as the reference names the dagster-powerbi defect.
SCAN_IGNORES_DATA_SOURCES = (
    "scanner path: dagster-powerbi ignores datasourceInstances, so its semantic models get no data source deps"
)
DASHBOARD_DOTS = "dashboard names with dots lose everything after the last dot in dagster-powerbi"
DASHBOARD_KEYS_MERGED = "dagster-powerbi merges two dashboards whose names differ only after the last dot"
TILE_OTHER_WORKSPACE = "dagster-powerbi raises KeyError on dashboards whose tiles point to another workspace"
NO_CONNECTION_DETAILS = "dagster-powerbi raises KeyError on data sources without connectionDetails (regular path)"
PAGINATED_DATA_SOURCES = (
    "pbisync gives a paginated (RDL) report deps on its data sources (it has no semantic model); "
    "dagster-powerbi gives it none"
)
SCAN_DASHBOARD_WITHOUT_TILES = "dagster-powerbi raises KeyError on a scanned dashboard the scanner lists without tiles"
PAGINATED_URL = (
    "a paginated (RDL) report's portal URL is /rdlreports/{id}; dagster-powerbi's fallback writes /reports/{id}"
)
TILE_MODEL_DEP = (
    "pbisync gives a dashboard a dep on the semantic model a tile shows without a report "
    "(datasetId, no reportId); dagster-powerbi reads only reportId"
)
M_LINEAGE = (
    "pbisync's Power Query M resolver finds warehouse tables (Sql.Database/Snowflake navigation by "
    "Schema/Item) that dagster-powerbi's [Name=...,Kind=...] regex does not read"
)

FILE_SUFFIXES = (".pbix", ".pbit", ".pbip", ".pbids", ".rdl", ".xlsx", ".xlsm", ".xlsb", ".xls", ".csv")


def clean(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", s)


def _url(spec: AssetSpec) -> str:
    """The item's id, the last part of its web_url (which both sides set)."""
    v = spec.metadata.get("dagster-powerbi/web_url")
    return str(getattr(v, "value", v)).rstrip("/").split("/")[-1]


def _lineage_keys(spec: AssetSpec) -> set[AssetKey]:
    v = spec.metadata.get("powerbi/table_lineage")
    keys: set[AssetKey] = set()
    for entry in getattr(v, "value", None) or []:
        for up in entry.get("upstream") or []:
            parts = [str(up[p]).lower() for p in ("database", "schema", "table") if up.get(p)]
            if parts:
                keys.add(AssetKey(parts))
    return keys


def _tiles(spec: AssetSpec) -> list:
    v = spec.metadata.get("powerbi/tiles")
    return list(getattr(v, "value", None) or [])


@dataclass
class Comparison:
    compared: int = 0
    unexplained: list[str] = field(default_factory=list)
    explained: Counter[str] = field(default_factory=Counter)


def compare(
    theirs: Sequence[AssetSpec],
    ours: Sequence[AssetSpec],
    data_source_keys: set[AssetKey],
    *,
    scanner: bool,
) -> Comparison:
    """Pairs the specs by their Power BI item (web_url holds its id) and compares keys,
    deps, tags, kinds, owners and dagster-powerbi's metadata."""
    out = Comparison()
    ours_by_url: dict[str, AssetSpec] = {_url(s): s for s in ours}
    seen: set[str] = set()
    key_map: dict[AssetKey, AssetKey] = {}
    for t in theirs:
        o = ours_by_url.get(_url(t))
        if o is None:
            out.unexplained.append(f"{t.key.to_user_string()}: only dagster-powerbi has {_url(t)}")
            continue
        seen.add(_url(t))
        key_map[o.key] = t.key
    for url, o in ours_by_url.items():
        if url in seen:
            continue
        name = str(o.metadata.get("dagster-powerbi/name", ""))
        if o.tags.get("dagster-powerbi/asset_type") == "dashboard" and "." in name:
            # dagster-powerbi listed this dashboard under the same key as another one
            out.explained[DASHBOARD_KEYS_MERGED] += 1
            continue
        out.unexplained.append(f"{o.key.to_user_string()}: only dagster-pbisync has {url}")
    for t in theirs:
        o = ours_by_url.get(_url(t))
        if o is None:
            continue
        out.compared += 1
        where = t.key.to_user_string()
        if t.key != o.key:
            name = str(t.metadata.get("dagster-powerbi/name", ""))
            their_key = AssetKey(["dashboard", clean(name.rsplit(".", 1)[0])])
            if (
                t.tags.get("dagster-powerbi/asset_type") == "dashboard"
                and "." in name
                and not name.lower().endswith(FILE_SUFFIXES)
                and t.key == their_key
                and o.key == AssetKey(["dashboard", clean(name)])
            ):
                out.explained[DASHBOARD_DOTS] += 1
            else:
                out.unexplained.append(f"{where}: key {t.key.to_user_string()} vs {o.key.to_user_string()}")
        their_deps = {d.asset_key for d in t.deps}
        our_deps = {key_map.get(d.asset_key, d.asset_key) for d in o.deps}
        for missing in sorted(their_deps - our_deps, key=str):
            out.unexplained.append(f"{where}: dep {missing.to_user_string()} only in dagster-powerbi")
        for extra in sorted(our_deps - their_deps, key=str):
            if scanner and extra in data_source_keys:
                out.explained[SCAN_IGNORES_DATA_SOURCES] += 1
            elif extra in data_source_keys and str(o.metadata.get("powerbi/report_type", "")) == "PaginatedReport":
                out.explained[PAGINATED_DATA_SOURCES] += 1
            elif (
                t.tags.get("dagster-powerbi/asset_type") == "dashboard"
                and extra.path[0] == "semantic_model"
                and any(isinstance(x, dict) and x.get("datasetId") and not x.get("reportId") for x in _tiles(o))
            ):
                out.explained[TILE_MODEL_DEP] += 1
            elif extra in _lineage_keys(o):
                out.explained[M_LINEAGE] += 1
            else:
                out.unexplained.append(f"{where}: dep {extra.to_user_string()} only in dagster-pbisync")
        if dict(t.tags) != dict(o.tags):
            out.unexplained.append(f"{where}: tags {dict(t.tags)} vs {dict(o.tags)}")
        if set(t.kinds) != set(o.kinds):
            out.unexplained.append(f"{where}: kinds {sorted(t.kinds)} vs {sorted(o.kinds)}")
        if list(t.owners) != list(o.owners):
            out.unexplained.append(f"{where}: owners {list(t.owners)} vs {list(o.owners)}")
        for name, value in t.metadata.items():
            if name not in o.metadata:
                out.unexplained.append(f"{where}: metadata {name} missing in dagster-pbisync")
            elif (
                name == "dagster-powerbi/web_url"
                and str(o.metadata.get("powerbi/report_type", "")) == "PaginatedReport"
                and str(getattr(o.metadata[name], "value", "")).replace("/rdlreports/", "/reports/")
                == str(getattr(value, "value", value))
            ):
                out.explained[PAGINATED_URL] += 1
            elif normalize_metadata_value(value) != normalize_metadata_value(o.metadata[name]):
                out.unexplained.append(
                    f"{where}: metadata {name}: {normalize_metadata_value(value)} vs "
                    f"{normalize_metadata_value(o.metadata[name])}"
                )
    return out


def explain_crash(exc: BaseException, workspace: Mapping[str, Any], api: Any) -> str | None:
    """Names the deliberate difference behind dagster-powerbi failing on a workspace, after
    checking it in the emulator's data: a tile's report in another workspace, or a data
    source without connectionDetails."""
    if not isinstance(exc, KeyError):
        return None
    missing = str(exc.args[0])
    ws = workspace["id"]
    if missing == "tiles":
        scan = api.scan(ws)
        if any("tiles" not in d for w in scan["workspaces"] for d in w.get("dashboards", [])):
            return SCAN_DASHBOARD_WITHOUT_TILES
        return None
    if missing == "connectionDetails":
        for ds in api.get(f"/groups/{ws}/datasets")["value"]:
            for src in api.get(f"/groups/{ws}/datasets/{ds['id']}/datasources")["value"]:
                if "connectionDetails" not in src:
                    return NO_CONNECTION_DETAILS
        return None
    local_reports = {r["id"] for r in api.get(f"/groups/{ws}/reports")["value"]}
    for d in api.get(f"/groups/{ws}/dashboards")["value"]:
        for tile in api.get(f"/groups/{ws}/dashboards/{d['id']}/tiles")["value"]:
            if tile.get("reportId") == missing and missing not in local_reports:
                return TILE_OTHER_WORKSPACE
    return None
