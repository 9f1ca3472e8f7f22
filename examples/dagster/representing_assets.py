"""Representing Power BI assets in Dagster (dagster-powerbi docs: load_powerbi_asset_specs)."""

from pathlib import Path

import dagster as dg

from dagster_pbisync import load_pbisync_asset_specs

HERE = Path(__file__).parent

# Reads the cached sync result (running `pbisync sync` the first time): loading the code
# location again makes no Power BI call. `dagster-pbisync refresh-state -f pipeline.yaml`
# refreshes it.
powerbi_specs = load_pbisync_asset_specs(HERE / "pipeline.yaml")
defs = dg.Definitions(assets=[*powerbi_specs])
