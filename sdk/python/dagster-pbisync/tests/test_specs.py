"""The JSON spec form to AssetSpec, without pbisync running."""

import json

import pytest
from dagster import AssetKey, JsonMetadataValue, TableSchema, UrlMetadataValue

from dagster_pbisync.specs import SpecFormatError, build_asset_specs, parse_specs


def spec(key: list[str], typ: str, ident: str, **extra: object) -> str:
    return json.dumps(
        {
            "key": key,
            "deps": extra.pop("deps", []),
            "metadata": extra.pop("metadata", {}),
            "tags": {"dagster-powerbi/asset_type": typ},
            "kinds": ["powerbi", typ],
            "owners": extra.pop("owners", []),
            "powerbi": {"type": typ, "id": ident, "name": key[-1]},
            **extra,
        }
    )


def test_metadata_types() -> None:
    line = spec(
        ["semantic_model", "Sales"],
        "semantic_model",
        "m1",
        metadata={
            "a/text": {"type": "text", "value": "x"},
            "a/url": {"type": "url", "value": "https://app.powerbi.com/x"},
            "a/int": {"type": "int", "value": 3},
            "a/float": {"type": "float", "value": 0.5},
            "a/bool": {"type": "bool", "value": True},
            "a/json": {"type": "json", "value": ["p1", "p2"]},
            "a/schema": {"type": "table_schema", "value": {"columns": [{"name": "id", "type": "Int64"}]}},
        },
        description="Sales model",
        group="finance",
        owners=["team:bi"],
    )
    (out,) = build_asset_specs(parse_specs([line], origin="t"))
    md = out.metadata
    assert md["a/text"] == "x" and md["a/int"] == 3 and md["a/float"] == 0.5 and md["a/bool"] is True
    assert isinstance(md["a/url"], UrlMetadataValue) and isinstance(md["a/json"], JsonMetadataValue)
    assert isinstance(md["a/schema"], TableSchema) and md["a/schema"].columns[0].name == "id"
    assert out.description == "Sales model" and out.group_name == "finance" and out.owners == ["team:bi"]


def test_repeated_spec_kept_once_and_data_sources_left_out() -> None:
    lines = [
        spec(["ds"], "data_source", "d1"),
        spec(["report", "R"], "report", "r1", deps=[["semantic_model", "M"]]),
        spec(["report", "R"], "report", "r1", deps=[["semantic_model", "M2"]]),
    ]
    specs = build_asset_specs(parse_specs(lines, origin="t"))
    assert [s.key for s in specs] == [AssetKey(["report", "R"])]
    assert [d.asset_key for d in specs[0].deps] == [AssetKey(["semantic_model", "M2"])]
    assert len(build_asset_specs(parse_specs(lines, origin="t"), include_data_sources=True)) == 2


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("not json", "specs.jsonl:1: not a pbisync spec"),
        ('{"key": ["a"]}', "specs.jsonl:1: not a pbisync spec"),
        ('{"key": [], "powerbi": {}}', "non-empty list"),
    ],
)
def test_bad_lines_name_file_and_line(line: str, match: str) -> None:
    with pytest.raises(SpecFormatError, match=match):
        parse_specs([line], origin="specs.jsonl")


def test_bad_metadata_names_the_asset() -> None:
    line = spec(["report", "R"], "report", "r1", metadata={"x": {"type": "nope", "value": 1}})
    with pytest.raises(SpecFormatError, match="asset report/R: metadata 'x': unknown type 'nope'"):
        build_asset_specs(parse_specs([line], origin="t"))
