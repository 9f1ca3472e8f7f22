package openlineage

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

// Schema URLs of the OpenLineage objects and facets this sink emits: the released spec's
// $ids, as the OpenLineage Python client 1.54.0 names them (testdata/schemas holds the
// published files).
const (
	SpecURL               = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
	runEventURL           = SpecURL + "#/$defs/RunEvent"
	datasetEventURL       = SpecURL + "#/$defs/DatasetEvent"
	schemaFacetURL        = "https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
	sourceFacetURL        = "https://openlineage.io/spec/facets/1-0-1/DatasourceDatasetFacet.json#/$defs/DatasourceDatasetFacet"
	docFacetURL           = "https://openlineage.io/spec/facets/1-1-0/DocumentationDatasetFacet.json#/$defs/DocumentationDatasetFacet"
	ownerFacetURL         = "https://openlineage.io/spec/facets/1-0-1/OwnershipDatasetFacet.json#/$defs/OwnershipDatasetFacet"
	lineageFacetURL       = "https://openlineage.io/spec/facets/1-0-0/LineageFacet.json#/$defs/LineageDatasetFacet"
	columnLineageFacetURL = "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet"
	lifecycleFacetURL     = "https://openlineage.io/spec/facets/1-0-1/LifecycleStateChangeDatasetFacet.json#/$defs/LifecycleStateChangeDatasetFacet"
	errorFacetURL         = "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"
	jobTypeFacetURL       = "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"
	nominalFacetURL       = "https://openlineage.io/spec/facets/1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet"

	// CustomFacetsBase is where pbisync's own facet schemas are published: the
	// facets/<version>/ folder of this plugin at the git tag openlineage-facets-<version>,
	// an immutable address, as the spec asks. A changed schema is a new version folder
	// and a new tag.
	CustomFacetsBase = "https://raw.githubusercontent.com/pbisync/pbisync/openlineage-facets-1-0-0/plugins/sinks/openlineage/facets/1-0-0/"
	assetFacetURL    = CustomFacetsBase + "PbisyncAssetDatasetFacet.json#/$defs/PbisyncAssetDatasetFacet"
	refreshFacetURL  = CustomFacetsBase + "PbisyncRefreshRunFacet.json#/$defs/PbisyncRefreshRunFacet"
	// Custom facet keys: {prefix}_{name}, the spec's custom facet naming.
	assetFacetKey   = "pbisync_asset"
	refreshFacetKey = "pbisync_refresh"
)

// Event is one OpenLineage event, as JSON-ready maps.
type Event = map[string]any

// dataset is an OpenLineage dataset reference.
type dataset struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

func (d dataset) ref() map[string]any {
	return map[string]any{"namespace": d.Namespace, "name": d.Name}
}

// known is what the builder remembers of a semantic model, in this sync and (with
// state_file) across syncs.
type known struct {
	Outputs       []map[string]any `json:"outputs"` // the datasets emitted for the model, with their facets
	Inputs        []dataset        `json:"inputs"`
	WorkspaceName string           `json:"workspaceName,omitempty"`
	Name          string           `json:"name,omitempty"`
}

// builder turns pbisync events into OpenLineage events. Each event is mapped from
// itself and its related assets (a report's model and its tables; a refresh's model
// spec), so the output does not depend on what came before, in this process or an
// earlier one. models and workspaces are fallbacks for refresh and removed events that
// do not carry what they concern (the state file's content, and what this process saw).
type builder struct {
	cfg        *Config
	models     map[string]*known // by model id
	changed    bool              // models changed since the state file was written
	workspaces map[string]string // workspace id -> name, for refresh job names
	warn       func(msg string, args ...any)
}

func newBuilder(cfg *Config) *builder {
	return &builder{cfg: cfg, models: map[string]*known{}, workspaces: map[string]string{},
		warn: func(string, ...any) {}}
}

func (b *builder) facet(url string, fields map[string]any) map[string]any {
	fields["_producer"] = b.cfg.Producer
	fields["_schemaURL"] = url
	return fields
}

func (b *builder) base(url string, t time.Time) Event {
	return Event{"eventTime": t.UTC().Format(time.RFC3339Nano), "producer": b.cfg.Producer, "schemaURL": url}
}

// workspaceOf names an asset's workspace: its name, as the dataset names and job names
// use it, else the name seen on another asset of the workspace, else its id.
func (b *builder) workspaceOf(id spec.Identity) string {
	if id.WorkspaceName != "" {
		return id.WorkspaceName
	}
	if n := b.workspaces[id.WorkspaceID]; n != "" {
		return n
	}
	if id.WorkspaceID != "" {
		return id.WorkspaceID
	}
	return "_"
}

func nameOf(id spec.Identity) string {
	if id.Name != "" {
		return id.Name
	}
	return id.ID
}

// datasetOf names the dataset of a report, a dashboard, a model without tables or a data source.
func (b *builder) datasetOf(id spec.Identity, key spec.Key) dataset {
	ns := b.cfg.DatasetNamespace
	switch id.Type {
	case spec.Report:
		return dataset{ns, b.workspaceOf(id) + "/reports/" + nameOf(id)}
	case spec.Dashboard:
		return dataset{ns, b.workspaceOf(id) + "/dashboards/" + nameOf(id)}
	case spec.DataSource:
		return dataset{ns, "datasources/" + key.String()}
	}
	return dataset{ns, b.workspaceOf(id) + "/" + nameOf(id)}
}

func (b *builder) tableDataset(model spec.Identity, table string) dataset {
	return dataset{b.cfg.DatasetNamespace, b.workspaceOf(model) + "/" + nameOf(model) + "/" + table}
}

// events returns the OpenLineage events for one pbisync event.
func (b *builder) events(e *event.Event, now time.Time) ([]Event, error) {
	switch e.Kind {
	case event.KindSpec:
		return b.specEvents(e, now)
	case event.KindRemoved:
		return b.removedEvents(e.Removed, now), nil
	case event.KindRefresh:
		return b.refreshEvents(e, now)
	}
	return nil, nil
}

func (b *builder) assetFacet(key spec.Key, id spec.Identity, s *spec.AssetSpec) map[string]any {
	f := map[string]any{
		"key": []string(key), "type": string(id.Type), "id": id.ID,
		"workspaceId": id.WorkspaceID, "workspaceName": id.WorkspaceName,
	}
	if s != nil {
		if u, ok := s.Metadata["dagster-powerbi/web_url"].Value.(string); ok {
			f["webUrl"] = u
		}
		if len(s.Tags) > 0 {
			f["tags"] = s.Tags
		}
	}
	return b.facet(assetFacetURL, f)
}

func (b *builder) commonFacets(s *spec.AssetSpec) map[string]any {
	facets := map[string]any{assetFacetKey: b.assetFacet(s.Key, s.PowerBI, s)}
	if s.Description != "" {
		facets["documentation"] = b.facet(docFacetURL, map[string]any{"description": s.Description})
	}
	if len(s.Owners) > 0 {
		owners := make([]map[string]any, 0, len(s.Owners))
		for _, o := range s.Owners {
			typ := "USER"
			if strings.HasPrefix(o, "team:") {
				typ = "TEAM"
			}
			owners = append(owners, map[string]any{"name": o, "type": typ})
		}
		facets["ownership"] = b.facet(ownerFacetURL, map[string]any{"owners": owners})
	}
	return facets
}

func (b *builder) lineageFacet(inputs []dataset) map[string]any {
	l := make([]map[string]any, 0, len(inputs))
	for _, d := range inputs {
		l = append(l, map[string]any{"namespace": d.Namespace, "name": d.Name, "type": "DATASET",
			"transformations": []map[string]any{{"type": "INDIRECT"}}})
	}
	return b.facet(lineageFacetURL, map[string]any{"inputs": l})
}

// assetInputs maps a report's or dashboard's dependencies to the datasets this sink
// emits for them, from the event's related assets: a model's tables, a report. A
// dependency the event does not relate is left out, not guessed at.
func (b *builder) assetInputs(e *event.Event, s *spec.AssetSpec) []dataset {
	var out []dataset
	for _, d := range s.Deps {
		r, ok := e.RelatedByKey(d)
		switch {
		case !ok || r.PowerBI.Type == spec.DataSource:
		case r.PowerBI.Type == spec.SemanticModel && len(r.Tables) > 0:
			for _, t := range r.Tables {
				out = append(out, b.tableDataset(r.PowerBI, t))
			}
		default:
			out = append(out, b.datasetOf(r.PowerBI, d))
		}
	}
	return out
}

// warehouseInputs names a model's warehouse dependency keys in upstream_namespace, when
// it is set: the fallback for a model none of whose tables' M resolved. Keys of pbisync's
// own assets are not warehouse tables.
func (b *builder) warehouseInputs(e *event.Event, s *spec.AssetSpec) []dataset {
	if b.cfg.UpstreamNamespace == "" {
		return nil
	}
	var out []dataset
	for _, d := range s.Deps {
		if _, ok := e.RelatedByKey(d); ok || len(d) < 2 {
			continue
		}
		switch d[0] {
		case "semantic_model", "report", "dashboard", "dataflow", "data_source":
			continue
		}
		out = append(out, dataset{b.cfg.UpstreamNamespace, strings.Join(d, ".")})
	}
	return out
}

type table struct {
	name   string
	schema spec.TableSchema
}

// modelTables lists a model's tables from dagster-powerbi's column-schema metadata.
func modelTables(s *spec.AssetSpec) []table {
	var out []table
	for name, md := range s.Metadata {
		ts, ok := md.Value.(spec.TableSchema)
		if !ok {
			continue
		}
		switch {
		case name == "dagster/column_schema":
			t, _ := s.Metadata["dagster/table_name"].Value.(string)
			if t == "" {
				t = s.PowerBI.Name
			}
			out = append(out, table{t, ts})
		case strings.HasSuffix(name, "_column_schema"):
			out = append(out, table{strings.TrimSuffix(name, "_column_schema"), ts})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func (b *builder) schemaFacet(t spec.TableSchema) map[string]any {
	fields := make([]map[string]any, 0, len(t.Columns))
	for _, c := range t.Columns {
		f := map[string]any{"name": c.Name, "type": c.Type}
		if c.Description != "" {
			f["description"] = c.Description
		}
		fields = append(fields, f)
	}
	return b.facet(schemaFacetURL, map[string]any{"fields": fields})
}

func (b *builder) datasetEvent(d dataset, facets map[string]any, now time.Time) Event {
	ev := b.base(datasetEventURL, now)
	ds := d.ref()
	ds["facets"] = facets
	ev["dataset"] = ds
	return ev
}

func (b *builder) specEvents(e *event.Event, now time.Time) ([]Event, error) {
	s := e.Spec
	id := s.PowerBI
	if id.ID == "" {
		return nil, fmt.Errorf("asset %s has no Power BI id", s.Key)
	}
	if id.WorkspaceID != "" && id.WorkspaceName != "" {
		b.workspaces[id.WorkspaceID] = id.WorkspaceName
	}
	switch id.Type {
	case spec.DataSource:
		d := b.datasetOf(id, s.Key)
		facets := b.commonFacets(s)
		facets["dataSource"] = b.facet(sourceFacetURL, map[string]any{"name": s.Key.String(), "uri": "urn:powerbi:datasource:" + id.ID})
		return []Event{b.datasetEvent(d, facets, now)}, nil
	case spec.SemanticModel:
		out, k := b.modelEvents(e, s, now)
		b.models[id.ID] = k
		b.changed = true
		return out, nil
	case spec.Report, spec.Dashboard:
		facets := b.commonFacets(s)
		if inputs := b.assetInputs(e, s); len(inputs) > 0 {
			facets["lineage"] = b.lineageFacet(inputs)
		}
		return []Event{b.datasetEvent(b.datasetOf(id, s.Key), facets, now)}, nil
	}
	return nil, nil
}

// modelEvents gives a dataset per model table, with the lineage of that table's own M,
// and what the model's refresh runs read and write (kept for its removal and for refresh
// events without the model's spec); e holds the spec's related assets.
func (b *builder) modelEvents(e *event.Event, s *spec.AssetSpec, now time.Time) ([]Event, *known) {
	id := s.PowerBI
	perTable := b.tableInputs(s)
	tables := modelTables(s)
	fallback := []dataset(nil)
	if len(perTable) == 0 {
		fallback = b.warehouseInputs(e, s)
	}
	// The refresh run reads what its tables read.
	all := append([]dataset(nil), fallback...)
	for _, t := range tables {
		for _, d := range perTable[strings.ToLower(t.name)].inputs {
			if !slices.Contains(all, d) {
				all = append(all, d)
			}
		}
	}
	k := &known{Inputs: all, WorkspaceName: b.workspaceOf(id), Name: nameOf(id)}
	var out []Event
	for _, t := range tables {
		d := b.tableDataset(id, t.name)
		facets := b.commonFacets(s)
		facets["schema"] = b.schemaFacet(t.schema)
		own, resolved := perTable[strings.ToLower(t.name)]
		inputs := own.inputs
		if !resolved {
			inputs = fallback
		}
		if len(inputs) > 0 {
			facets["lineage"] = b.lineageFacet(inputs)
		}
		if len(own.columns) > 0 {
			facets["columnLineage"] = b.columnLineageFacet(own.columns)
		}
		out = append(out, b.datasetEvent(d, facets, now))
		o := d.ref()
		o["facets"] = map[string]any{"schema": b.schemaFacet(t.schema)}
		if len(own.columns) > 0 {
			o["facets"].(map[string]any)["columnLineage"] = b.columnLineageFacet(own.columns)
		}
		k.Outputs = append(k.Outputs, o)
	}
	if len(tables) == 0 {
		d := b.datasetOf(id, s.Key)
		facets := b.commonFacets(s)
		if len(fallback) > 0 {
			facets["lineage"] = b.lineageFacet(fallback)
		}
		out = append(out, b.datasetEvent(d, facets, now))
		k.Outputs = append(k.Outputs, d.ref())
	}
	return out, k
}

// removedEvents marks the datasets emitted for a removed asset as dropped, with the
// standard lifecycleStateChange facet: a report's, a dashboard's or a data source's
// dataset, a model's tables. A model whose datasets are unknown (removed in a later sync
// without state_file) gives nothing rather than a dataset that was never emitted.
func (b *builder) removedEvents(r *event.Removed, now time.Time) []Event {
	id := r.PowerBI
	var targets []dataset
	switch id.Type {
	case spec.SemanticModel:
		k, ok := b.models[id.ID]
		if !ok {
			b.warn("a semantic model was removed but the datasets emitted for it are unknown (no state_file): nothing marked dropped",
				"model", id.String())
			return nil
		}
		for _, o := range k.Outputs {
			ns, _ := o["namespace"].(string)
			name, _ := o["name"].(string)
			targets = append(targets, dataset{ns, name})
		}
		delete(b.models, id.ID)
		b.changed = true
	case spec.Report, spec.Dashboard, spec.DataSource:
		targets = []dataset{b.datasetOf(id, r.Key)}
	default:
		return nil
	}
	out := make([]Event, 0, len(targets))
	for _, d := range targets {
		out = append(out, b.datasetEvent(d, map[string]any{
			"lifecycleStateChange": b.facet(lifecycleFacetURL, map[string]any{"lifecycleStateChange": "DROP"}),
			assetFacetKey:          b.assetFacet(r.Key, id, nil),
		}, now))
	}
	return out
}
