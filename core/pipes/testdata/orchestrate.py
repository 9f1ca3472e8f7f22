"""Runs a command as a Dagster Pipes subprocess under real Dagster and prints, as JSON, what
Dagster received: materializations with their metadata, log lines, custom messages, and the
step's failure. Used by core/pipes tests: python orchestrate.py MODE COMMAND..."""

import json
import sys

from dagster import (
    AssetExecutionContext,
    AssetSpec,
    DagsterEventType,
    DagsterInstance,
    PipesSubprocessClient,
    TableSchema,
    materialize,
    multi_asset,
)

KEYS = [["semantic_model", "Sales_Model"], ["report", "Sales_Model"]]
custom: list = []


@multi_asset(specs=[AssetSpec(k) for k in KEYS])
def step(context: AssetExecutionContext, pipes: PipesSubprocessClient):
    inv = pipes.run(command=sys.argv[2:], context=context, extras={"mode": sys.argv[1]})
    custom.extend(inv.get_custom_messages())
    return inv.get_results()


def plain(value):
    v = value.value
    if isinstance(v, TableSchema):
        return {"columns": [{"name": c.name, "type": c.type} for c in v.columns]}
    return v


instance = DagsterInstance.ephemeral()
result = materialize([step], resources={"pipes": PipesSubprocessClient()}, instance=instance, raise_on_error=False)
out = {"success": result.success, "materializations": [], "logs": [], "custom": custom, "errors": []}
for ev in result.get_asset_materialization_events():
    mat = ev.event_specific_data.materialization
    out["materializations"].append(
        {
            "key": mat.asset_key.path,
            "metadata": {k: {"type": type(v).__name__, "value": plain(v)} for k, v in mat.metadata.items()},
        }
    )
for entry in instance.all_logs(result.run_id):
    if entry.dagster_event is None:
        out["logs"].append({"level": entry.level, "message": entry.user_message})
        continue
    err = None
    if entry.dagster_event.event_type == DagsterEventType.STEP_FAILURE:
        err = entry.dagster_event.step_failure_data.error
    elif entry.dagster_event.event_type == DagsterEventType.ENGINE_EVENT:
        err = entry.dagster_event.engine_event_data.error
    if err is not None:
        out["errors"].append({"message": err.message, "cause": err.cause.message if err.cause else None})
print(json.dumps(out))
