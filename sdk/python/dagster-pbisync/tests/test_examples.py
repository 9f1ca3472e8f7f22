"""examples/dagster runs against the emulator: every module's Definitions load, the
custom refresh materializes, and the component YAML resolves."""

import asyncio
import runpy
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml

from dagster_pbisync import PbisyncComponent
from tests.conftest import REPO, Emulator

EXAMPLES = REPO / "examples" / "dagster"


@pytest.fixture(scope="module")
def examples(sample_emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of examples/dagster (its caches stay out of the checkout), pointed at the
    emulator; the copy's spec caches are shared by the tests, as by a code location."""
    dst = tmp_path_factory.mktemp("examples") / "dagster"
    shutil.copytree(EXAMPLES, dst, ignore=shutil.ignore_patterns(".pbisync", "out", "__pycache__"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POWER_BI_API_URL", sample_emulator.api_url)
        mp.setenv("POWER_BI_API_TOKEN", sample_emulator.api_token)
        yield dst


@pytest.mark.parametrize(
    "module", ["representing_assets.py", "custom_translation.py", "multiple_workspaces.py", "definitions.py"]
)
def test_example_definitions_load(examples: Path, module: str) -> None:
    defs = runpy.run_path(str(examples / module))["defs"]
    assert isinstance(defs, dg.Definitions)
    dg.Definitions.validate_loadable(defs)
    assert len(defs.resolve_asset_graph().get_all_asset_keys()) > 5


def test_custom_translation_example(examples: Path) -> None:
    defs = runpy.run_path(str(examples / "custom_translation.py"))["defs"]
    keys = [k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.path[0] == "my_prefix"]
    assert keys and all(k.path[1] == "dashboard" for k in keys)


def test_multiple_workspaces_example(examples: Path) -> None:
    ns = runpy.run_path(str(examples / "multiple_workspaces.py"))
    sales = {s.metadata["powerbi/workspace_name"] for s in ns["sales_specs"]}
    finance = {s.metadata["powerbi/workspace_name"] for s in ns["finance_specs"]}
    assert "Sales Analytics" in sales and all(n.startswith("Sales") for n in sales), sales
    assert finance == {"Finance"}


def test_custom_refresh_example_materializes(examples: Path) -> None:
    ns = runpy.run_path(str(examples / "definitions.py"))
    result = dg.materialize([ns["custom_refresh"]])
    assert result.success
    (mat,) = result.get_asset_materialization_events()
    assert mat.event_specific_data.materialization.metadata["pbisync/refresh_status"].value == "completed"


def test_component_yaml_example(examples: Path) -> None:
    defs_yaml = examples / "defs" / "powerbi" / "defs.yaml"
    doc = yaml.safe_load(defs_yaml.read_text())
    assert doc["type"] == "dagster_pbisync.PbisyncComponent"
    attributes = dict(doc["attributes"])
    attributes["pipeline"] = str((defs_yaml.parent / attributes["pipeline"]).resolve())
    component = PbisyncComponent.resolve_from_dict(attributes)
    state = examples / "state.jsonl"
    asyncio.run(component._write_state_to_path_async(state))
    from dagster.components.testing.utils import ComponentTree

    defs = component.build_defs_from_state(ComponentTree.for_test().load_context, state_path=state)
    refreshable = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
    assert [k.to_user_string() for a in refreshable for k in a.keys] == ["semantic_model/Sales_Model"]


def test_dagster_cli_materializes_example(examples: Path) -> None:
    """`dagster asset materialize` loads the code location as Dagster does (the run worker
    rebuilds the specs from the state the location was loaded with) and refreshes."""
    dagster_cli = Path(sys.executable).parent / "dagster"
    proc = subprocess.run(
        [str(dagster_cli), "asset", "materialize", "-f", "definitions.py", "--select", "semantic_model/Sales_Model"],
        cwd=examples,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "RUN_SUCCESS" in proc.stderr and "ASSET_MATERIALIZATION" in proc.stderr
