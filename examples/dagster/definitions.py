"""Materializing semantic models (dagster-powerbi docs:
build_semantic_model_refresh_asset_definition), and a custom refresh with work before and
after it. Run it against the emulator:

    pbisync emulate                     # prints api_url and api_token
    export POWER_BI_API_URL=... POWER_BI_API_TOKEN=...
    dagster dev -f definitions.py       # or: dg dev, with defs/powerbi/defs.yaml
"""

from pathlib import Path

import dagster as dg

from dagster_pbisync import (
    build_semantic_model_refresh_asset_definition,
    load_pbisync_asset_specs,
    run_pbisync_refresh,
)
from dagster_pbisync.specs import is_semantic_model, semantic_model_id

PIPELINE = Path(__file__).parent / "pipeline.yaml"
CUSTOM = "Finance GL"  # refreshed by the custom asset below

all_specs = load_pbisync_asset_specs(PIPELINE)
name = {spec.key: str(spec.metadata["dagster-powerbi/name"]) for spec in all_specs}

# Every semantic model but one becomes an executable asset that refreshes it.
assets = [
    build_semantic_model_refresh_asset_definition(spec, pipeline=PIPELINE)
    if is_semantic_model(spec) and name[spec.key] != CUSTOM
    else spec
    for spec in all_specs
    if not (is_semantic_model(spec) and name[spec.key] == CUSTOM)
]

custom_spec = next(s for s in all_specs if is_semantic_model(s) and name[s.key] == CUSTOM)


@dg.multi_asset(specs=[custom_spec.replace_attributes(skippable=True)], name="custom_finance_gl_refresh")
def custom_refresh(context: dg.AssetExecutionContext):
    context.log.info("before the refresh: check the warehouse load finished")
    invocation = run_pbisync_refresh(
        context, pipeline=PIPELINE, models={custom_spec.key: semantic_model_id(custom_spec)}
    )
    yield from invocation.results
    invocation.raise_for_failure()
    context.log.info("after the refresh: notify the finance team")


defs = dg.Definitions(assets=[*assets, custom_refresh])
