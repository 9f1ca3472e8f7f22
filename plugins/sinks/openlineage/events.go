package openlineage

import (
	"crypto/sha1"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

// Schema URLs of the OpenLineage objects and facets this sink emits.
const (
	SpecURL               = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
	runEventURL           = SpecURL + "#/$defs/RunEvent"
	datasetEventURL       = SpecURL + "#/$defs/DatasetEvent"
	schemaFacetURL        = "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
	sourceFacetURL        = "https://openlineage.io/spec/facets/1-0-1/DatasourceDatasetFacet.json#/$defs/DatasourceDatasetFacet"
	docFacetURL           = "https://openlineage.io/spec/facets/1-0-1/DocumentationDatasetFacet.json#/$defs/DocumentationDatasetFacet"
	ownerFacetURL         = "https://openlineage.io/spec/facets/1-0-1/OwnershipDatasetFacet.json#/$defs/OwnershipDatasetFacet"
	lineageFacetURL       = "https://openlineage.io/spec/facets/1-0-0/LineageDatasetFacet.json#/$defs/LineageDatasetFacet"
	columnLineageFacetURL = "https://openlineage.io/spec/facets/1-0-1/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet"
	errorFacetURL         = "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"
	jobTypeFacetURL       = "https://openlineage.io/spec/facets/2-0-3/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"
	nominalFacetURL       = "https://openlineage.io/spec/facets/1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet"
	customFacetsBase      = "https://raw.githubusercontent.com/pbisync/pbisync/main/plugins/sinks/openlineage/facets/"
	assetFacetURL         = customFacetsBase + "PowerBIAssetDatasetFacet.json#/$defs/PowerBIAssetDatasetFacet"
	refreshFacetURL       = customFacetsBase + "PowerBIRefreshRunFacet.json#/$defs/PowerBIRefreshRunFacet"
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

// known is a semantic model's refresh lineage: what its refresh run reads and writes.
// The state file keeps it, for refresh events that do not carry their model's spec.
type known struct {
	Outputs []map[string]any `json:"outputs"` // the model's tables, with their facets
	Inputs  []dataset        `json:"inputs"`
}

// builder turns pbisync events into OpenLineage events. Each event is mapped from
// itself and its related assets alone; models is only the state file's content.
type builder struct {
	cfg     *Config
	models  map[string]*known // by model id, for the state file
	changed bool              // models changed since the state file was written
}

func newBuilder(cfg *Config) *builder {
	return &builder{cfg: cfg, models: map[string]*known{}}
}

func (b *builder) facet(url string, fields map[string]any) map[string]any {
	fields["_producer"] = b.cfg.Producer
	fields["_schemaURL"] = url
	return fields
}

func (b *builder) base(url string, t time.Time) Event {
	return Event{"eventTime": t.UTC().Format(time.RFC3339Nano), "producer": b.cfg.Producer, "schemaURL": url}
}

func workspaceOf(id spec.Identity) string {
	if id.WorkspaceName != "" {
		return id.WorkspaceName
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
		return dataset{ns, workspaceOf(id) + "/reports/" + nameOf(id)}
	case spec.Dashboard:
		return dataset{ns, workspaceOf(id) + "/dashboards/" + nameOf(id)}
	case spec.DataSource:
		return dataset{ns, "datasources/" + key.String()}
	}
	return dataset{ns, workspaceOf(id) + "/" + nameOf(id)}
}

func (b *builder) tableDataset(model spec.Identity, table string) dataset {
	return dataset{b.cfg.DatasetNamespace, workspaceOf(model) + "/" + nameOf(model) + "/" + table}
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

func (b *builder) assetFacet(s *spec.AssetSpec, removed bool) map[string]any {
	f := map[string]any{
		"key": []string(s.Key), "type": string(s.PowerBI.Type), "id": s.PowerBI.ID,
		"workspaceId": s.PowerBI.WorkspaceID, "workspaceName": s.PowerBI.WorkspaceName,
	}
	if u, ok := s.Metadata["dagster-powerbi/web_url"].Value.(string); ok {
		f["webUrl"] = u
	}
	if len(s.Tags) > 0 {
		f["tags"] = s.Tags
	}
	if removed {
		f["removed"] = true
	}
	return b.facet(assetFacetURL, f)
}

func (b *builder) commonFacets(s *spec.AssetSpec) map[string]any {
	facets := map[string]any{"powerbi": b.assetFacet(s, false)}
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

// depDatasets maps dependencies to datasets, from the event's related assets: models'
// tables, data sources and other assets; then warehouse tables (keys of two or more
// parts) in the upstream namespace.
func (b *builder) depDatasets(e *event.Event, s *spec.AssetSpec) []dataset {
	var out []dataset
	for _, d := range s.Deps {
		if rel, ok := e.RelatedByKey(d); ok {
			if rel.PowerBI.Type == spec.SemanticModel && len(rel.Tables) > 0 {
				for _, t := range rel.Tables {
					out = append(out, b.tableDataset(rel.PowerBI, t))
				}
				continue
			}
			out = append(out, b.datasetOf(rel.PowerBI, d))
			continue
		}
		if len(d) >= 2 {
			out = append(out, dataset{b.cfg.UpstreamNamespace, strings.Join(d, ".")})
		} else {
			out = append(out, dataset{b.cfg.DatasetNamespace, "datasources/" + d.String()})
		}
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
		if inputs := b.depDatasets(e, s); len(inputs) > 0 {
			facets["lineage"] = b.lineageFacet(inputs)
		}
		return []Event{b.datasetEvent(b.datasetOf(id, s.Key), facets, now)}, nil
	}
	return nil, nil
}

// modelEvents maps a semantic model's spec to the dataset events of its tables, and to
// what its refresh run reads and writes; e holds the spec's related assets.
func (b *builder) modelEvents(e *event.Event, s *spec.AssetSpec, now time.Time) ([]Event, *known) {
	id := s.PowerBI
	inputs := b.depDatasets(e, s)
	perTable := b.tableInputs(s)
	// The refresh run reads what its tables read: the model's upstreams and every
	// table's own.
	all := append([]dataset(nil), inputs...)
	for _, t := range modelTables(s) {
		for _, d := range perTable[strings.ToLower(t.name)].inputs {
			if !slices.Contains(all, d) {
				all = append(all, d)
			}
		}
	}
	k := &known{Inputs: all}
	var out []Event
	tables := modelTables(s)
	for _, t := range tables {
		d := b.tableDataset(id, t.name)
		facets := b.commonFacets(s)
		facets["schema"] = b.schemaFacet(t.schema)
		tableInputs := inputs
		own, resolved := perTable[strings.ToLower(t.name)]
		if resolved {
			tableInputs = own.inputs // the table's own sources, from its Power Query M
		}
		if len(tableInputs) > 0 {
			facets["lineage"] = b.lineageFacet(tableInputs)
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
		if len(inputs) > 0 {
			facets["lineage"] = b.lineageFacet(inputs)
		}
		out = append(out, b.datasetEvent(d, facets, now))
		k.Outputs = append(k.Outputs, d.ref())
	}
	return out, k
}

func (b *builder) removedEvents(r *event.Removed, now time.Time) []Event {
	s := &spec.AssetSpec{Key: r.Key, PowerBI: r.PowerBI}
	d := b.datasetOf(r.PowerBI, r.Key)
	return []Event{b.datasetEvent(d, map[string]any{"powerbi": b.assetFacet(s, true)}, now)}
}

// runID derives the run's UUID from the refresh request id (a name-based, version 5
// style UUID), so every event of one refresh, sent again or not, shares it.
func runID(requestID string) string {
	h := sha1.Sum([]byte("pbisync/refresh/" + requestID))
	h[6] = (h[6] & 0x0f) | 0x50
	h[8] = (h[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func (b *builder) jobName(model spec.Identity) string {
	return workspaceOf(model) + "/" + nameOf(model) + "/refresh"
}

func (b *builder) refreshEvents(e *event.Event, now time.Time) ([]Event, error) {
	r := e.Refresh
	if r.RequestID == "" {
		return nil, fmt.Errorf("refresh of %s without a request id", r.Model)
	}
	var eventType string
	var when time.Time
	switch r.State {
	case event.RefreshRequested:
		eventType, when = "START", r.RequestedAt
	case event.RefreshStarted:
		// A refresh pbisync requested had its START with the request (in this process
		// or an earlier one); one it did not request starts here.
		eventType, when = "RUNNING", r.StartedAt
		if r.RequestedAt.IsZero() {
			eventType = "START"
		}
	case event.RefreshCompleted:
		eventType, when = "COMPLETE", r.EndedAt
	case event.RefreshFailed, event.RefreshTimedOut:
		eventType, when = "FAIL", r.EndedAt
	case event.RefreshCancelled:
		eventType, when = "ABORT", r.EndedAt
	default:
		return nil, fmt.Errorf("refresh %s: unknown state %q", r.RequestID, r.State)
	}
	if when.IsZero() {
		when = now
	}
	runFacets := map[string]any{}
	rf := map[string]any{"requestId": r.RequestID, "state": string(r.State), "modelId": r.Model.ID}
	if r.RefreshType != "" {
		rf["refreshType"] = r.RefreshType
	}
	if r.Enhanced {
		rf["enhanced"] = true
	}
	if len(r.Tables) > 0 {
		tables := make([]map[string]any, 0, len(r.Tables))
		for _, t := range r.Tables {
			m := map[string]any{"table": t.Table, "status": t.Status}
			if t.Partition != "" {
				m["partition"] = t.Partition
			}
			tables = append(tables, m)
		}
		rf["tables"] = tables
	}
	runFacets["powerbiRefresh"] = b.facet(refreshFacetURL, rf)
	if !r.RequestedAt.IsZero() {
		runFacets["nominalTime"] = b.facet(nominalFacetURL, map[string]any{"nominalStartTime": r.RequestedAt.UTC().Format(time.RFC3339Nano)})
	}
	if r.State == event.RefreshFailed || r.State == event.RefreshTimedOut {
		msg := r.Error
		if msg == "" && r.State == event.RefreshTimedOut {
			msg = "pbisync stopped waiting for the refresh (timed out)"
		}
		if msg == "" {
			msg = "the refresh failed"
		}
		runFacets["errorMessage"] = b.facet(errorFacetURL, map[string]any{"message": msg, "programmingLanguage": "PowerQuery M"})
	}
	ev := b.base(runEventURL, when)
	ev["eventType"] = eventType
	ev["run"] = map[string]any{"runId": runID(r.RequestID), "facets": runFacets}
	ev["job"] = map[string]any{"namespace": b.cfg.Namespace, "name": b.jobName(r.Model), "facets": map[string]any{
		"jobType": b.facet(jobTypeFacetURL, map[string]any{"processingType": "BATCH", "integration": "POWERBI", "jobType": "SEMANTIC_MODEL_REFRESH"}),
	}}
	inputs, outputs := []map[string]any{}, []map[string]any{}
	k, ok := b.models[r.Model.ID] // the state file's, for an event without the model's spec
	if ms := r.ModelSpec; ms != nil && ms.PowerBI.ID == r.Model.ID {
		_, k = b.modelEvents(e, ms, when)
		ok = true
	}
	if ok {
		for _, d := range k.Inputs {
			inputs = append(inputs, d.ref())
		}
		outputs = append(outputs, k.Outputs...)
	} else {
		outputs = append(outputs, b.datasetOf(r.Model, r.Key).ref())
	}
	ev["inputs"] = inputs
	ev["outputs"] = outputs
	return []Event{ev}, nil
}
