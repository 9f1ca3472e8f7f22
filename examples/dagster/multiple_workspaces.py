"""Several workspaces (dagster-powerbi docs: one PowerBIWorkspace each, specs merged): one
pbisync pipeline holds them all, or load each source and merge as there."""

from pathlib import Path

import dagster as dg

from dagster_pbisync import load_pbisync_asset_specs

PIPELINE = Path(__file__).parent / "multiple-workspaces.yaml"

sales_specs = load_pbisync_asset_specs(PIPELINE, source="sales")
finance_specs = load_pbisync_asset_specs(PIPELINE, source="finance")
defs = dg.Definitions(assets=[*sales_specs, *finance_specs])
