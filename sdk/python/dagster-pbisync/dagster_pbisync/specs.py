"""pbisync's JSON spec form (docs/spec-format.md) turned into dagster.AssetSpec."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster import AssetKey, AssetSpec, MetadataValue, TableColumn, TableSchema

CONTENT_TYPES = ("dashboard", "report", "semantic_model", "data_source")


class SpecFormatError(ValueError):
    """A line of a specs file is not a valid pbisync spec; the message names file and line."""


@dataclass(frozen=True)
class PbisyncTranslatorData:
    """One pbisync spec as the translator sees it: the JSON form of the spec after pbisync's
    own translators, and the Power BI identity it carries."""

    spec: Mapping[str, Any]

    @property
    def content_type(self) -> str:
        """dashboard, report, semantic_model or data_source (later versions may add more)."""
        return str(self.spec.get("powerbi", {}).get("type", ""))

    @property
    def properties(self) -> Mapping[str, Any]:
        """The Power BI identity: type, id, name, workspaceId, workspaceName."""
        return self.spec.get("powerbi", {})

    @property
    def workspace_id(self) -> str | None:
        return self.properties.get("workspaceId")


def metadata_value(name: str, entry: Mapping[str, Any]) -> Any:
    """The Dagster value of one typed metadata entry, as dagster-powerbi writes the same
    kinds: text and numbers as plain values, URLs as MetadataValue.url, JSON as
    MetadataValue.json, table schemas as TableSchema."""
    typ = entry.get("type")
    value: Any = entry.get("value")
    if typ == "text":
        return str(value)
    if typ == "url":
        return MetadataValue.url(str(value))
    if typ == "int":
        return int(value)
    if typ == "float":
        return float(value)
    if typ == "bool":
        return bool(value)
    if typ == "json":
        return MetadataValue.json(value)
    if typ == "table_schema":
        return TableSchema(
            columns=[
                TableColumn(name=c["name"], type=c.get("type") or "string", description=c.get("description"))
                for c in value["columns"]
            ]
        )
    raise ValueError(f"metadata {name!r}: unknown type {typ!r}")


class DagsterPbisyncTranslator:
    """Turns pbisync specs into AssetSpecs. The default keeps everything pbisync decided
    (keys, deps, metadata, tags, kinds, owners, group); subclass it and override
    get_asset_spec, or one of the per-type methods, to change specs on the Dagster side,
    as with dagster-powerbi's DagsterPowerBITranslator. Deps follow changed keys."""

    def get_asset_spec(self, data: PbisyncTranslatorData) -> AssetSpec:
        t = data.content_type
        if t == "dashboard":
            return self.get_dashboard_spec(data)
        if t == "report":
            return self.get_report_spec(data)
        if t == "semantic_model":
            return self.get_semantic_model_spec(data)
        if t == "data_source":
            return self.get_data_source_spec(data)
        return self.get_default_spec(data)

    def get_dashboard_spec(self, data: PbisyncTranslatorData) -> AssetSpec:
        return self.get_default_spec(data)

    def get_report_spec(self, data: PbisyncTranslatorData) -> AssetSpec:
        return self.get_default_spec(data)

    def get_semantic_model_spec(self, data: PbisyncTranslatorData) -> AssetSpec:
        return self.get_default_spec(data)

    def get_data_source_spec(self, data: PbisyncTranslatorData) -> AssetSpec:
        return self.get_default_spec(data)

    def get_default_spec(self, data: PbisyncTranslatorData) -> AssetSpec:
        return default_asset_spec(data.spec)


def default_asset_spec(spec: Mapping[str, Any]) -> AssetSpec:
    """The AssetSpec for a pbisync spec, exactly as pbisync's spec says."""
    try:
        metadata = {name: metadata_value(name, entry) for name, entry in spec.get("metadata", {}).items()}
    except (ValueError, TypeError, KeyError) as e:
        raise SpecFormatError(f"asset {'/'.join(spec.get('key', []))}: {e}") from e
    return AssetSpec(
        key=AssetKey(list(spec["key"])),
        deps=[AssetKey(list(d)) for d in spec.get("deps", [])],
        description=spec.get("description") or None,
        metadata=metadata,
        tags=dict(spec.get("tags", {})),
        kinds=set(spec.get("kinds", [])),
        owners=list(spec.get("owners", [])) or None,
        group_name=spec.get("group") or None,
    )


def read_specs(path: str | Path) -> list[dict[str, Any]]:
    """Reads a specs JSON Lines file (`pbisync sync --specs-out`); see parse_specs."""
    path = Path(path)
    with path.open(encoding="utf-8") as f:
        return parse_specs(f, origin=str(path))


def parse_specs(lines: Iterable[str], *, origin: str) -> list[dict[str, Any]]:
    """Parses specs, one JSON object a line. A spec repeated (a sink restart writes a batch
    again) is kept once, the last time it appears. Errors name origin and line."""
    by_identity: dict[tuple[str, str], dict[str, Any]] = {}
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            spec = json.loads(line)
            ident = spec["powerbi"]
            key = spec["key"]
        except (ValueError, KeyError, TypeError) as e:
            raise SpecFormatError(f"{origin}:{n}: not a pbisync spec: {e}") from e
        if not isinstance(key, list) or not key or not all(isinstance(k, str) and k for k in key):
            raise SpecFormatError(f"{origin}:{n}: the key must be a non-empty list of non-empty strings")
        by_identity[(str(ident.get("type")), str(ident.get("id")))] = spec
    return list(by_identity.values())


def build_asset_specs(
    specs: Iterable[Mapping[str, Any]],
    translator: DagsterPbisyncTranslator | None = None,
    *,
    include_data_sources: bool = False,
) -> list[AssetSpec]:
    """Translates every spec, then points deps at the translated keys. Data source specs
    are left out by default, as dagster-powerbi leaves them out (they stay as dep keys)."""
    return [out for _, out in translate_specs(specs, translator, include_data_sources=include_data_sources)]


def translate_specs(
    specs: Iterable[Mapping[str, Any]],
    translator: DagsterPbisyncTranslator | None = None,
    *,
    include_data_sources: bool = False,
) -> list[tuple[Mapping[str, Any], AssetSpec]]:
    """build_asset_specs, with each AssetSpec beside the pbisync spec it came from."""
    translator = translator or DagsterPbisyncTranslator()
    pairs: list[tuple[Mapping[str, Any], AssetSpec]] = []
    renamed: dict[AssetKey, AssetKey] = {}
    for spec in specs:
        out = translator.get_asset_spec(PbisyncTranslatorData(spec=spec))
        pairs.append((spec, out))
        original = AssetKey(list(spec["key"]))
        if out.key != original:
            renamed[original] = out.key
    result: list[tuple[Mapping[str, Any], AssetSpec]] = []
    for spec, out in pairs:
        if not include_data_sources and spec.get("powerbi", {}).get("type") == "data_source":
            continue
        if renamed and any(d.asset_key in renamed for d in out.deps):
            out = out.replace_attributes(deps=[renamed.get(d.asset_key, d.asset_key) for d in out.deps])
        result.append((spec, out))
    return result


def semantic_model_id(spec: AssetSpec) -> str:
    """The Power BI id of a semantic model's spec (from its metadata)."""
    for name in ("dagster-powerbi/id", "powerbi/id"):
        value = spec.metadata.get(name)
        if value is not None:
            return str(getattr(value, "value", value))
    raise ValueError(f"asset {spec.key.to_user_string()} carries no semantic model id (dagster-powerbi/id)")


def is_semantic_model(spec: AssetSpec) -> bool:
    return spec.tags.get("dagster-powerbi/asset_type") == "semantic_model"


def spec_names(specs: Sequence[AssetSpec]) -> list[str]:
    return sorted(spec.key.to_user_string() for spec in specs)
