"""What DataHub's own Power BI source writes for a pbisync snapshot, compared with what
pbisync's DataHub sink wrote for it.

    python datahub_golden.py SNAPSHOT.json PBISYNC_MCPS.json EXPECTED_OUT.json [RECIPE_JSON]

RECIPE_JSON, when given, is merged into the recipe below (nested dicts merged): the
options of the sink have the same effect as these of DataHub's source.

The expected entities come from DataHub's own code (acryl-datahub, pinned in
requirements-test.txt), not from a reading of it: the snapshot's raw scanner answers go
through DataHub's constructors (new_powerbi_dataset, new_powerbi_reports,
new_powerbi_dashboards, Table/Column/Measure as PowerBiAPI._get_workspace_datasets builds
them, PowerBiAPI._parse_endorsement) and then through its Mapper
(generate_container_for_workspace, to_datahub_dataset, report_to_datahub_work_units,
to_datahub_work_units), with the recipe below. Both sides are then read back through
DataHub's aspect classes, so defaults and serialization are DataHub's, and compared entity
by entity, aspect by aspect. The expected MCPs are written to EXPECTED_OUT.json for review.

Where pbisync differs on purpose, the difference is an option of the sink or is bridged
here, each said where it happens:
- the recipe: extract_ownership, ownership.dataset_configured_by_as_owner and
  extract_endorsements_to_tags on (pbisync writes owners and endorsement tags);
  create_corp_user off (pbisync makes no user entities); patch_metadata off (pbisync
  upserts whole aspects); column-level lineage on (pbisync writes it). Table lineage
  comes from DataHub's own M parser.
- calculated columns: DataHub maps a calculated column (DAX, columnType "Calculated") to
  a warehouse column of the same name, which the warehouse table does not have; pbisync's
  resolver leaves it out. Those entries are dropped from DataHub's side.
- "team:x" owners: pbisync's convention for a group owner (the sample's Budget model is
  configured by "team:fpa") becomes urn:li:corpGroup:x; DataHub would write the user
  users.team:x. DataHub's side is mapped to the group.
- a report's owner: pbisync's spec owner is the report's creator (dagster-powerbi's
  convention); DataHub reads the report's users list, which the scanner answer lacks. The
  creator is given to DataHub as that user, so the comparison checks how both name it.
- tiles: DataHub resolves a tile's report only within the dashboard's workspace, pbisync
  across workspaces (a cross-workspace tile keeps its URL and report edge); reports are
  looked up tenant-wide here.
- a model's tables are emitted once, with the model's own workspace (DataHub emits them
  again under each report and dashboard that uses them, with the workspace it is then
  processing as container: last writer wins).
"""

import dataclasses
import json
import sys
from collections import defaultdict

from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.ingestion.api.common import PipelineContext
from datahub.ingestion.source.powerbi.config import (
    PowerBiDashboardSourceConfig,
    PowerBiDashboardSourceReport,
)
from datahub.ingestion.source.powerbi.dataplatform_instance_resolver import (
    create_dataplatform_instance_resolver,
)
from datahub.ingestion.source.powerbi.powerbi import Mapper
from datahub.ingestion.source.powerbi.rest_api_wrapper import data_classes as dc
from datahub.ingestion.source.powerbi.rest_api_wrapper.powerbi_api import (
    PowerBiAPI,
    workspace_from_group,
)

RECIPE = {
    "tenant_id": "00000000-0000-0000-0000-000000000000",
    "client_id": "11111111-1111-1111-1111-111111111111",
    "client_secret": "unused",
    "extract_ownership": True,
    "ownership": {"dataset_configured_by_as_owner": True, "create_corp_user": False},
    "extract_endorsements_to_tags": True,
    # DataHub's own M parser resolves the tables' lineage (column level needs these three).
    "extract_column_level_lineage": True,
    "native_query_parsing": True,
    "enable_advance_lineage_sql_construct": True,
    "patch_metadata": False,
}


def known(cls, raw):
    """The fields of raw that DataHub's dataclass takes. DataHub passes the scanner's
    column as keyword arguments; the emulator's answers carry formatString too (as
    Microsoft's recorded scanner answers do), which its Column does not accept."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in raw.items() if k in names}


def merged(base, extra):
    out = dict(base)
    for k, v in extra.items():
        out[k] = merged(out.get(k) or {}, v) if isinstance(v, dict) else v
    return out


def datahub_mcps(snapshot, recipe):
    config = PowerBiDashboardSourceConfig.model_validate(recipe)
    mapper = Mapper(
        PipelineContext(run_id="pbisync-golden"),
        config,
        PowerBiDashboardSourceReport(),
        create_dataplatform_instance_resolver(config),
    )
    env = config.environment
    workspaces, datasets, reports = [], {}, {}
    for w in snapshot["workspaces"]:
        ws = workspace_from_group({"id": w["id"], "name": w["name"], "type": w.get("type") or "Workspace"}, env)
        for sm in w.get("semanticModels") or []:
            raw = sm.get("raw") or {}
            ds = dc.new_powerbi_dataset(ws, raw)
            ds.tags = PowerBiAPI._parse_endorsement(raw.get("endorsementDetails"))
            for t in raw.get("tables") or []:
                source = t.get("source") or []
                ds.tables.append(
                    dc.Table(
                        name=t["name"],
                        full_name="{}.{}".format(ds.name.replace(" ", "_"), t["name"].replace(" ", "_")),
                        expression=source[0]["expression"] if source else None,
                        columns=[
                            dc.Column(**known(dc.Column, c), datahubDataType=dc.FIELD_TYPE_MAPPING.get(c["dataType"], dc.FIELD_TYPE_MAPPING["Null"]))
                            for c in t.get("columns") or []
                        ],
                        measures=[dc.Measure(**known(dc.Measure, m)) for m in t.get("measures") or []],
                        dataset=ds,
                    )
                )
            datasets[ds.id] = (ds, ws)
        raws = [r.get("raw") or {} for r in w.get("reports") or []]
        for r, raw in zip(dc.new_powerbi_reports(ws, raws), raws):
            r.tags = PowerBiAPI._parse_endorsement(raw.get("endorsementDetails"))
            if raw.get("createdBy"):
                r.users = [dc.User(id=raw["createdBy"], displayName=raw["createdBy"], emailAddress=raw["createdBy"],
                                   graphId="", principalType="User")]
            ws.reports[r.id] = r
            reports[r.id] = r
        raws = [d.get("raw") or {} for d in w.get("dashboards") or []]
        for d in dc.new_powerbi_dashboards(ws, raws):
            ws.dashboards[d.id] = d
        workspaces.append(ws)
    for ws in workspaces:
        for r in ws.reports.values():
            r.dataset = datasets.get(r.dataset_id, (None, None))[0]
        for d in ws.dashboards.values():
            for tile in d.tiles:
                tile.report = reports.get(tile.report_id) if tile.report_id else None
                tile.dataset = datasets.get(tile.dataset_id, (None, None))[0] if tile.dataset_id else None

    calculated = {(ds.name, t.name, c.name) for ds, _ in datasets.values() for t in ds.tables
                  for c in t.columns or [] if c.columnType == "Calculated"}
    out = []
    for ws in workspaces:
        out.extend(wu.metadata for wu in mapper.generate_container_for_workspace(ws))
        for ds, dws in datasets.values():
            if dws is ws:
                out.extend(mapper.to_datahub_dataset(ds, ws))
    # The models' tables (and model containers) once, from their own workspace; below,
    # what DataHub emits for them again under a report or tile is left out.
    model_urns = {m.entityUrn for m in out if m.entityType == "dataset" or
                  (m.aspectName == "subTypes" and m.aspect.typeNames == ["Semantic Model"])}
    for ws in workspaces:
        for _ in mapper.generate_container_for_workspace(ws):  # sets the workspace being processed
            pass
        for d in ws.dashboards.values():
            out.extend(wu.metadata for wu in mapper.to_datahub_work_units(d, ws)
                       if wu.metadata.entityUrn not in model_urns)
        for r in ws.reports.values():
            out.extend(wu.metadata for wu in mapper.report_to_datahub_work_units(r, ws)
                       if wu.metadata.entityUrn not in model_urns)
    for m in out:
        if m.aspectName == "dashboardInfo" and m.aspect.datasetEdges:
            m.aspect.datasetEdges.sort(key=lambda e: e.destinationUrn)  # a set in DataHub: any order
        if m.aspectName == "upstreamLineage" and m.aspect.fineGrainedLineages:
            m.aspect.fineGrainedLineages = [
                f for f in m.aspect.fineGrainedLineages
                if not any(calculated_field(d, calculated) for d in f.downstreams or [])
            ] or None
        if m.aspectName == "ownership":
            for o in m.aspect.owners:
                for user in ("urn:li:corpuser:users.team:", "urn:li:corpuser:team:"):
                    if o.owner.startswith(user):
                        o.owner = "urn:li:corpGroup:" + o.owner[len(user):]
    return out


def calculated_field(schema_field_urn, calculated):
    """Whether urn:li:schemaField:(urn:li:dataset:(...,<model>.<table>,ENV),<column>) is a
    calculated column of a model table."""
    dataset, _, field = schema_field_urn.rpartition(",")
    name = dataset.split(",")[1].lower()  # [instance.]model.table
    for model, table, column in calculated:
        full = "{}.{}".format(model.replace(" ", "_"), table.replace(" ", "_")).lower()
        if field == column + ")" and (name == full or name.endswith("." + full)):
            return True
    return False


def by_entity(mcps):
    """urn -> aspect name -> aspect JSON, through DataHub's own aspect classes."""
    got = defaultdict(dict)
    for m in mcps:
        obj = m.aspect.to_obj()
        if m.aspectName == "dashboardInfo" and obj.get("datasetEdges"):
            obj["datasetEdges"].sort(key=lambda e: e["destinationUrn"])  # pbisync's side, in any order too
        got[m.entityUrn][m.aspectName] = obj
    return got


def main():
    snapshot_path, pbisync_path, expected_path = sys.argv[1:4]
    with open(snapshot_path) as f:
        recipe = merged(RECIPE, json.loads(sys.argv[4])) if len(sys.argv) > 4 else RECIPE
        expected_mcps = datahub_mcps(json.load(f), recipe)
    with open(expected_path, "w") as f:
        json.dump([m.to_obj() for m in expected_mcps], f, indent=1, sort_keys=True)
    with open(pbisync_path) as f:
        ours = [MetadataChangeProposalWrapper.from_obj(o) for o in json.load(f)]
    want, got = by_entity(expected_mcps), by_entity(ours)
    problems = []
    for urn in sorted(set(want) | set(got)):
        if urn not in got:
            problems.append(f"missing entity {urn} (DataHub writes {sorted(want[urn])})")
            continue
        if urn not in want:
            problems.append(f"extra entity {urn} ({sorted(got[urn])}); DataHub writes none")
            continue
        for aspect in sorted(set(want[urn]) | set(got[urn])):
            w, g = want[urn].get(aspect), got[urn].get(aspect)
            if w != g:
                problems.append(f"{urn} {aspect}:\n  DataHub: {json.dumps(w, sort_keys=True)}\n  pbisync: {json.dumps(g, sort_keys=True)}")
    print(f"{len(want)} entities from DataHub's Power BI source, {len(got)} from pbisync, {len(problems)} differences")
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
