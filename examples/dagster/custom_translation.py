"""A custom translator (dagster-powerbi docs: subclass DagsterPowerBITranslator): dashboard
keys get a prefix and an owner. pbisync's own translators (pipeline.yaml) run first; this
one runs in Dagster, and deps follow the keys it changes."""

from pathlib import Path

import dagster as dg

from dagster_pbisync import DagsterPbisyncTranslator, PbisyncTranslatorData, load_pbisync_asset_specs

HERE = Path(__file__).parent


class MyCustomPbisyncTranslator(DagsterPbisyncTranslator):
    def get_dashboard_spec(self, data: PbisyncTranslatorData) -> dg.AssetSpec:
        default_spec = super().get_dashboard_spec(data)
        return default_spec.replace_attributes(
            key=default_spec.key.with_prefix("my_prefix"),
            owners=["team:my_team"],
        )


powerbi_specs = load_pbisync_asset_specs(HERE / "pipeline.yaml", translator=MyCustomPbisyncTranslator())
defs = dg.Definitions(assets=[*powerbi_specs])
