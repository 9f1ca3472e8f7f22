"""Parity with the real dagster-powerbi: both read the same emulated tenant (pbisync
emulate, with its static api_token), and their specs are compared workspace by
workspace; each difference must be one of the named deliberate ones."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import dagster_powerbi.resource as powerbi_resource
import pytest
from dagster_powerbi import PowerBIToken, PowerBIWorkspace, load_powerbi_asset_specs

from dagster_pbisync import load_pbisync_asset_specs
from tests.conftest import Emulator, write_pipeline
from tests.parity import (
    DASHBOARD_DOTS,
    M_LINEAGE,
    NO_CONNECTION_DETAILS,
    SCAN_IGNORES_DATA_SOURCES,
    TILE_OTHER_WORKSPACE,
    compare,
    explain_crash,
)


def dashboards_showing(emu: Emulator, workspace_id: str, report_id: str) -> list[str]:
    """The ids of the workspace's dashboards with a tile showing the report."""
    return [
        d["id"]
        for d in emu.get(f"/groups/{workspace_id}/dashboards")["value"]
        if any(
            t.get("reportId") == report_id
            for t in emu.get(f"/groups/{workspace_id}/dashboards/{d['id']}/tiles")["value"]
        )
    ]


def run_parity(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, scanner: bool
) -> tuple[int, Counter[str]]:
    monkeypatch.setattr(powerbi_resource, "BASE_API_URL", emu.api_url)
    explained: Counter[str] = Counter()
    compared = 0
    unexplained: list[str] = []
    for ws in emu.get("/groups")["value"]:
        (tmp_path / ws["id"]).mkdir()
        pipeline = write_pipeline(tmp_path / ws["id"], emu, workspace_ids=[ws["id"]], scanner=scanner)
        ours_all = load_pbisync_asset_specs(pipeline, refresh=True, include_data_sources=True)
        ours = [s for s in ours_all if s.tags.get("dagster-powerbi/asset_type") != "data_source"]
        data_sources = {s.key for s in ours_all if s.tags.get("dagster-powerbi/asset_type") == "data_source"}
        resource = PowerBIWorkspace(credentials=PowerBIToken(api_token=emu.api_token), workspace_id=ws["id"])
        try:
            theirs = load_powerbi_asset_specs(resource, use_workspace_scan=scanner)
        except Exception as e:  # dagster-powerbi's own failures must be named defects
            why = explain_crash(e, ws, emu)
            assert why, f"workspace {ws['name']}: dagster-powerbi failed for no named reason: {e!r}"
            explained[why] += 1
            if why == TILE_OTHER_WORKSPACE:
                # pbisync keeps the dashboard (the dep on the other workspace's report needs
                # that workspace in the sync; a whole-tenant sync has it)
                urls = {str(getattr(u, "value", u)) for s in ours if (u := s.metadata.get("dagster-powerbi/web_url"))}
                for dash in dashboards_showing(emu, ws["id"], str(e.args[0])):
                    assert any(dash in u for u in urls), f"workspace {ws['name']}: pbisync lost dashboard {dash}"
            continue
        result = compare(theirs, ours, data_sources, scanner=scanner)
        compared += result.compared
        explained.update(result.explained)
        unexplained += [f"workspace {ws['name']}: {u}" for u in result.unexplained]
    assert not unexplained, "unexplained differences:\n" + "\n".join(unexplained)
    print(f"\n{'scanner' if scanner else 'regular'} path: {compared} assets compared; named differences:")
    for why, n in sorted(explained.items()):
        print(f"  {n:4d}  {why}")
    return compared, explained


def test_sample_tenant_scanner(sample_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compared, explained = run_parity(sample_emulator, tmp_path, monkeypatch, scanner=True)
    assert compared >= 10
    # the sample tenant holds each of these on purpose
    for named in (SCAN_IGNORES_DATA_SOURCES, DASHBOARD_DOTS, TILE_OTHER_WORKSPACE, M_LINEAGE):
        assert explained[named] > 0, f"expected the sample tenant to show: {named}; saw {dict(explained)}"


def test_sample_tenant_regular(sample_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compared, explained = run_parity(sample_emulator, tmp_path, monkeypatch, scanner=False)
    assert compared >= 5
    assert explained[NO_CONNECTION_DETAILS] > 0 and explained[TILE_OTHER_WORKSPACE] > 0, dict(explained)
    assert explained[SCAN_IGNORES_DATA_SOURCES] == 0


def test_generated_tenant_scanner(
    generated_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared, _ = run_parity(generated_emulator, tmp_path, monkeypatch, scanner=True)
    assert compared >= 5


def test_generated_tenant_regular(
    generated_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared, _ = run_parity(generated_emulator, tmp_path, monkeypatch, scanner=False)
    assert compared >= 5
