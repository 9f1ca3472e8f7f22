"""Refresh assets against the emulator: `dagster.materialize` runs `pbisync refresh`
under Dagster Pipes and reports a materialization per model with the refresh's metadata;
a refresh the emulator fails fails the run with the service's error text."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster import (
    AssetExecutionContext,
    AssetSpec,
    DagsterEventType,
    DagsterInstance,
    PipesSubprocessClient,
    materialize,
    multi_asset,
)

from dagster_pbisync import (
    build_semantic_model_refresh_asset_definition,
    build_semantic_models_refresh_asset_definition,
    load_pbisync_asset_specs,
)
from tests.conftest import Emulator, start_emulator, write_pipeline

REFRESH_METADATA = {
    "pbisync/refresh_request_id",
    "pbisync/refresh_status",
    "pbisync/refresh_start",
    "pbisync/refresh_end",
    "pbisync/refresh_duration_seconds",
    "pbisync/refresh_type",
}


def models(pipeline: Path) -> dict[str, AssetSpec]:
    specs = load_pbisync_asset_specs(pipeline)
    return {
        str(s.metadata["dagster-powerbi/name"]): s
        for s in specs
        if s.tags.get("dagster-powerbi/asset_type") == "semantic_model"
    }


def materializations(result) -> dict[str, dict]:
    out = {}
    for ev in result.get_asset_materialization_events():
        mat = ev.event_specific_data.materialization
        out[mat.asset_key.to_user_string()] = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    return out


@pytest.fixture(scope="module")
def failing_emulator(pbisync_bin: str, sample_emulator: Emulator) -> Iterator[Emulator]:
    """The sample tenant again, whose "Sales Model" refreshes end Failed."""
    pipeline_dir = Path(__file__).parent  # not written to: ids come from the API
    del pipeline_dir
    ws = sample_emulator.get("/groups")["value"]
    sales = next(
        d["id"]
        for w in ws
        for d in sample_emulator.get(f"/groups/{w['id']}/datasets")["value"]
        if d["name"] == "Sales Model"
    )
    emu = start_emulator(pbisync_bin, "--tenant", "sample", "--fail-refreshes", sales)
    yield emu
    emu.stop()


def test_refresh_one_model(sample_emulator: Emulator, tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path, sample_emulator)
    spec = models(pipeline)["Sales Model"]
    result = materialize([build_semantic_model_refresh_asset_definition(spec, pipeline=pipeline)])
    assert result.success
    mats = materializations(result)
    assert list(mats) == [spec.key.to_user_string()]
    md = mats[spec.key.to_user_string()]
    assert set(md) >= REFRESH_METADATA, md
    assert md["pbisync/refresh_status"] == "completed"
    assert md["pbisync/refresh_type"] == "ViaApi"
    assert md["pbisync/refresh_request_id"]
    assert md["pbisync/refresh_end"] >= md["pbisync/refresh_start"]
    assert md["pbisync/refresh_duration_seconds"] == pytest.approx(
        md["pbisync/refresh_end"] - md["pbisync/refresh_start"], abs=0.01
    )


def test_refresh_several_models_and_a_subset(sample_emulator: Emulator, tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path, sample_emulator)
    by_name = models(pipeline)
    specs = [by_name["Sales Model"], by_name["Finance GL"]]
    asset = build_semantic_models_refresh_asset_definition(specs, pipeline=pipeline)
    result = materialize([asset])
    assert result.success
    assert set(materializations(result)) == {s.key.to_user_string() for s in specs}
    # a subset refreshes only what is selected
    result = materialize([asset], selection=[specs[1].key])
    assert result.success
    assert set(materializations(result)) == {specs[1].key.to_user_string()}


def test_failed_refresh_fails_the_run(failing_emulator: Emulator, tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path, failing_emulator)
    by_name = models(pipeline)
    specs = [by_name["Sales Model"], by_name["Finance GL"]]
    instance = DagsterInstance.ephemeral()
    result = materialize(
        [build_semantic_models_refresh_asset_definition(specs, pipeline=pipeline)],
        instance=instance,
        raise_on_error=False,
    )
    assert not result.success
    # the model that refreshed keeps its materialization
    assert set(materializations(result)) == {specs[1].key.to_user_string()}
    failures = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    assert failures
    text = failures[0].step_failure_data.user_failure_data.description
    assert "Sales Model" in text and "ModelRefresh_ShortMessage_ProcessingError" in text, text
    assert "The credentials provided for the SQL source are invalid" in text, text


def test_pipes_subprocess_client_runs_pbisync(sample_emulator: Emulator, pbisync_bin: str, tmp_path: Path) -> None:
    """pbisync speaks Pipes by itself: a plain PipesSubprocessClient asset gets its
    materialization (keys are pbisync's own; models come from the step's asset keys)."""
    pipeline = write_pipeline(tmp_path, sample_emulator)
    spec = models(pipeline)["Finance GL"]

    @multi_asset(specs=[spec])
    def refresh(context: AssetExecutionContext, pipes: PipesSubprocessClient):
        return pipes.run(command=[pbisync_bin, "refresh", "-f", str(pipeline)], context=context).get_results()

    result = materialize([refresh], resources={"pipes": PipesSubprocessClient()})
    assert result.success
    md = materializations(result)[spec.key.to_user_string()]
    assert md["pbisync/refresh_status"] == "completed"
