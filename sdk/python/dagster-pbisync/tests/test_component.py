"""PbisyncComponent from YAML, and the state-backed loading of specs."""

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from dagster import AssetKey, AssetsDefinition, AssetSpec, MetadataValue, TableSchema
from dagster.components.testing.utils import ComponentTree

from dagster_pbisync import (
    DagsterPbisyncTranslator,
    PbisyncComponent,
    PbisyncError,
    PbisyncTranslatorData,
    default_state_path,
    load_pbisync_asset_specs,
)
from dagster_pbisync.cli import main as cli_main
from tests.conftest import Emulator, write_pipeline


def test_specs_are_typed(sample_emulator: Emulator, tmp_path: Path) -> None:
    specs = {s.key: s for s in load_pbisync_asset_specs(write_pipeline(tmp_path, sample_emulator))}
    sales = specs[AssetKey(["semantic_model", "Sales_Model"])]
    assert isinstance(sales.metadata["dagster-powerbi/web_url"], MetadataValue.url("x").__class__)
    assert sales.metadata["dagster-powerbi/name"] == "Sales Model"
    assert any(isinstance(v, TableSchema) for v in sales.metadata.values())
    assert sales.kinds == {"powerbi", "semantic_model"}
    assert sales.tags["dagster-powerbi/asset_type"] == "semantic_model"
    # data sources stay dep keys only, as in dagster-powerbi, unless asked for
    assert not any(s.tags.get("dagster-powerbi/asset_type") == "data_source" for s in specs.values())
    with_ds = load_pbisync_asset_specs(write_pipeline(tmp_path, sample_emulator), include_data_sources=True)
    assert any(s.tags.get("dagster-powerbi/asset_type") == "data_source" for s in with_ds)


def test_state_is_cached_and_replaced_only_by_a_good_sync(sample_emulator: Emulator, tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path, sample_emulator)
    first = load_pbisync_asset_specs(pipeline)
    cache = default_state_path(pipeline)
    assert cache.is_file()
    before = cache.read_text()
    # point the pipeline at nothing: loading from the cache makes no Power BI call
    broken = pipeline.read_text().replace(sample_emulator.api_url, "http://127.0.0.1:9/v1.0/myorg")
    pipeline.write_text(broken.replace("      scanner:", "      retry: {max_attempts: 1}\n      scanner:"))
    again = load_pbisync_asset_specs(pipeline)
    assert [s.key for s in again] == [s.key for s in first]
    with pytest.raises(PbisyncError, match="pbisync sync"):
        load_pbisync_asset_specs(pipeline, refresh=True)
    assert cache.read_text() == before, "a failed sync replaced the cached specs"


def test_refresh_state_cli(sample_emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pipeline = write_pipeline(tmp_path, sample_emulator)
    out = subprocess.run(
        [sys.executable, "-m", "dagster_pbisync.cli", "refresh-state", "-f", str(pipeline)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(default_state_path(pipeline)) in out.stdout
    assert cli_main(["refresh-state", "-f", str(tmp_path / "missing.yaml")]) == 1
    assert "missing.yaml" in capsys.readouterr().err


class PrefixDashboards(DagsterPbisyncTranslator):
    """The dagster-powerbi docs' translator: prefix dashboard keys, set owners."""

    def get_dashboard_spec(self, data: PbisyncTranslatorData) -> AssetSpec:
        spec = super().get_dashboard_spec(data)
        return spec.replace_attributes(key=spec.key.with_prefix("my_prefix"), owners=["team:my_team"])

    def get_report_spec(self, data: PbisyncTranslatorData) -> AssetSpec:
        spec = super().get_report_spec(data)
        return spec.replace_attributes(key=spec.key.with_prefix("bi"))


def test_python_translator_and_deps_follow_keys(sample_emulator: Emulator, tmp_path: Path) -> None:
    specs = load_pbisync_asset_specs(write_pipeline(tmp_path, sample_emulator), translator=PrefixDashboards())
    dashboards = [s for s in specs if s.tags["dagster-powerbi/asset_type"] == "dashboard"]
    assert dashboards and all(s.key.path[0] == "my_prefix" and s.owners == ["team:my_team"] for s in dashboards)
    dep_keys = {d.asset_key for s in dashboards for d in s.deps}
    report_keys = {s.key for s in specs if s.tags["dagster-powerbi/asset_type"] == "report"}
    assert dep_keys and dep_keys <= report_keys | {k for k in dep_keys if k.path[0] != "bi"}
    assert any(k.path[0] == "bi" for k in dep_keys), dep_keys


def load_component(attributes: str) -> PbisyncComponent:
    """The component from the attributes of a defs.yaml."""
    component = PbisyncComponent.resolve_from_yaml(attributes)
    assert isinstance(component, PbisyncComponent)
    return component


def test_component_yaml(sample_emulator: Emulator, tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path, sample_emulator)
    component = load_component(
        textwrap.dedent(
            f"""\
            pipeline: {pipeline}
            enable_semantic_model_refresh: [Sales Model]
            translation:
              group_name: powerbi
              for_report:
                key_prefix: [pbi]
            """
        ),
    )
    assert Path(component.pipeline) == tmp_path / "pipeline.yaml"
    state = tmp_path / "state" / "specs.jsonl"
    state.parent.mkdir()
    # what `dg utils refresh-defs-state` runs for the component
    asyncio.run(component._write_state_to_path_async(state))
    defs = component.build_defs_from_state(ComponentTree.for_test().load_context, state_path=state)
    assets = list(defs.assets or [])
    refreshable = [a for a in assets if isinstance(a, AssetsDefinition)]
    assert [k.to_user_string() for a in refreshable for k in a.keys] == ["semantic_model/Sales_Model"]
    specs = [a for a in assets if isinstance(a, AssetSpec)]
    assert all(s.group_name == "powerbi" for s in specs)
    reports = [s for s in specs if s.tags["dagster-powerbi/asset_type"] == "report"]
    assert reports and all(s.key.path[:2] == ["pbi", "report"] for s in reports)
    # dashboards depend on the reports under their new keys
    dash_deps = {d.asset_key for s in specs if s.tags["dagster-powerbi/asset_type"] == "dashboard" for d in s.deps}
    report_deps = {k for k in dash_deps if "report" in k.path}
    assert report_deps and all(k.path[0] == "pbi" for k in report_deps), dash_deps
    assert component.build_defs_from_state(ComponentTree.for_test().load_context, state_path=None).assets in (None, [])


def test_component_refresh_all(sample_emulator: Emulator, tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path, sample_emulator)
    component = load_component(f"pipeline: {pipeline}\nenable_semantic_model_refresh: true\n")
    state = tmp_path / "specs.jsonl"
    asyncio.run(component._write_state_to_path_async(state))
    defs = component.build_defs_from_state(ComponentTree.for_test().load_context, state_path=state)
    models = [a for a in defs.assets or [] if isinstance(a, AssetsDefinition)]
    specs = [a for a in defs.assets or [] if isinstance(a, AssetSpec)]
    assert len(models) >= 4
    assert not any(s.tags["dagster-powerbi/asset_type"] == "semantic_model" for s in specs)


def test_component_state_through_dagster(
    sample_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The path `dg utils refresh-defs-state` and a code location load take: Dagster's
    refresh_state writes the local-filesystem state, build_defs reads it back."""
    pipeline = write_pipeline(tmp_path, sample_emulator)
    # a dg project (dg.toml and its defs module) holds local-filesystem state
    (tmp_path / "dg.toml").write_text('[project]\nroot_module = "pbiproj"\ndefs_module = "pbiproj.defs"\n')
    (tmp_path / "pbiproj" / "defs").mkdir(parents=True)
    (tmp_path / "pbiproj" / "__init__.py").write_text("")
    (tmp_path / "pbiproj" / "defs" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)  # the test component tree's project root
    component = load_component(f"pipeline: {pipeline}\nenable_semantic_model_refresh: [Sales Model]\n")
    context = ComponentTree.for_test().load_context
    assert list(component.build_defs(context).assets or []) == []  # no state yet: nothing, and no sync
    asyncio.run(component.refresh_state(context.project_root))
    assets = list(component.build_defs(context).assets or [])
    assert any(isinstance(a, AssetsDefinition) for a in assets)
    assert len(assets) > 10
