package datahub

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

// MCP is one metadata change proposal: an aspect of an entity, upserted.
type MCP struct {
	EntityType string
	EntityURN  string
	AspectName string
	Aspect     any // encodes as the aspect's JSON
}

// auditStamp and changeAuditStamps are DataHub's default "unknown" stamps.
func auditStamp() map[string]any {
	return map[string]any{"time": 0, "actor": "urn:li:corpuser:unknown"}
}

func changeAuditStamps() map[string]any {
	return map[string]any{"created": auditStamp(), "lastModified": auditStamp()}
}

// fieldTypes maps Power BI column types to DataHub's schema field types.
var fieldTypes = map[string]string{
	"int64": "NumberType", "double": "NumberType", "decimal": "NumberType", "number": "NumberType",
	"boolean": "BooleanType", "datetime": "DateType", "date": "DateType", "time": "TimeType",
	"string": "StringType", "text": "StringType", "null": "NullType", "binary": "BytesType",
}

func fieldType(powerbiType string) map[string]any {
	t, ok := fieldTypes[strings.ToLower(powerbiType)]
	if !ok {
		t = "NullType"
	}
	return map[string]any{"type": map[string]any{"com.linkedin.schema." + t: map[string]any{}}}
}

// mapper turns pbisync events into MCPs. Each event is mapped from itself and its
// related assets alone, so the output does not depend on what came before; workspaces
// only saves sending a container's aspects twice, and tables is the state file's content.
type mapper struct {
	n          namer
	upstream   upstreamConfig
	workspaces map[string]bool     // containers already emitted by this process
	tables     map[string][]string // model id -> its table dataset URNs, for removals
}

func newMapper(n namer, up upstreamConfig, tables map[string][]string) *mapper {
	if tables == nil {
		tables = map[string][]string{}
	}
	return &mapper{n: n, upstream: up, workspaces: map[string]bool{}, tables: tables}
}

// modelTableURNs names the table datasets of a related semantic model.
func (m *mapper) modelTableURNs(r *event.Related) []string {
	name := r.PowerBI.Name
	if name == "" {
		name = r.PowerBI.ID
	}
	out := make([]string, 0, len(r.Tables))
	for _, t := range r.Tables {
		out = append(out, m.n.tableURN(name, t))
	}
	return out
}

// mcps returns the proposals for one event. Refresh and summary events carry no
// catalog metadata and give none.
func (m *mapper) mcps(e *event.Event) ([]MCP, error) {
	switch e.Kind {
	case event.KindSpec:
		return m.specMCPs(e)
	case event.KindRemoved:
		return m.removedMCPs(e.Removed), nil
	}
	return nil, nil
}

func (m *mapper) workspaceMCPs(id spec.Identity) []MCP {
	if id.WorkspaceID == "" && id.WorkspaceName == "" {
		return nil
	}
	urn, key := m.n.workspaceContainerURN(id.WorkspaceID, id.WorkspaceName)
	if m.workspaces[urn] {
		return nil
	}
	m.workspaces[urn] = true
	name := id.WorkspaceName
	if name == "" {
		name = id.WorkspaceID
	}
	props := map[string]string{}
	for k, v := range key {
		props[k] = v
	}
	props["workspaceId"] = id.WorkspaceID
	return []MCP{
		{"container", urn, "containerProperties", map[string]any{"name": name, "customProperties": props}},
		{"container", urn, "status", map[string]any{"removed": false}},
		{"container", urn, "dataPlatformInstance", m.platformInstance()},
		{"container", urn, "subTypes", map[string]any{"typeNames": []string{"Workspace"}}},
	}
}

func (m *mapper) platformInstance() map[string]any {
	pi := map[string]any{"platform": platformURN(Platform)}
	if m.n.instance != "" {
		pi["instance"] = "urn:li:dataPlatformInstance:(" + platformURN(Platform) + "," + m.n.instance + ")"
	}
	return pi
}

func (m *mapper) containerOf(id spec.Identity) (string, bool) {
	if id.WorkspaceID == "" && id.WorkspaceName == "" {
		return "", false
	}
	urn, _ := m.n.workspaceContainerURN(id.WorkspaceID, id.WorkspaceName)
	return urn, true
}

func webURL(s *spec.AssetSpec) string {
	if v, ok := s.Metadata["dagster-powerbi/web_url"].Value.(string); ok {
		return v
	}
	return ""
}

func customProperties(s *spec.AssetSpec) map[string]string {
	p := map[string]string{
		"pbisyncKey":    s.Key.String(),
		"powerbiId":     s.PowerBI.ID,
		"workspaceId":   s.PowerBI.WorkspaceID,
		"workspaceName": s.PowerBI.WorkspaceName,
	}
	if s.Group != "" {
		p["group"] = s.Group
	}
	for name, md := range s.Metadata {
		switch md.Type {
		case spec.TypeText, spec.TypeURL:
			p[name] = md.Value.(string)
		case spec.TypeInt, spec.TypeFloat, spec.TypeBool:
			p[name] = fmt.Sprint(md.Value)
		}
	}
	return p
}

// common adds the aspects every entity of a spec gets: status, container, owners, tags.
func (m *mapper) common(entityType, urn string, s *spec.AssetSpec, container string) []MCP {
	out := []MCP{{entityType, urn, "status", map[string]any{"removed": false}}}
	if container != "" {
		out = append(out, MCP{entityType, urn, "container", map[string]any{"container": container}})
	}
	if len(s.Owners) > 0 {
		owners := make([]map[string]any, 0, len(s.Owners))
		for _, o := range s.Owners {
			owners = append(owners, map[string]any{"owner": ownerURN(o), "type": "TECHNICAL_OWNER"})
		}
		out = append(out, MCP{entityType, urn, "ownership", map[string]any{"owners": owners, "lastModified": auditStamp()}})
	}
	if len(s.Tags) > 0 {
		names := make([]string, 0, len(s.Tags))
		for k := range s.Tags {
			names = append(names, k)
		}
		sort.Strings(names)
		tags := make([]map[string]any, 0, len(names))
		for _, k := range names {
			tags = append(tags, map[string]any{"tag": tagURN(k, s.Tags[k])})
		}
		out = append(out, MCP{entityType, urn, "globalTags", map[string]any{"tags": tags}})
	}
	return out
}

func (m *mapper) specMCPs(e *event.Event) ([]MCP, error) {
	s := e.Spec
	id := s.PowerBI
	if id.ID == "" {
		return nil, fmt.Errorf("asset %s has no Power BI id", s.Key)
	}
	var out []MCP
	switch id.Type {
	case spec.DataSource:
		// DataHub's Power BI source makes no entity for a data source: it is lineage only.
		return nil, nil
	case spec.SemanticModel:
		out = m.workspaceMCPs(id)
		mcps, tables := m.modelMCPs(e)
		out = append(out, mcps...)
		m.tables[id.ID] = tables
	case spec.Report:
		out = append(m.workspaceMCPs(id), m.reportMCPs(e)...)
	case spec.Dashboard:
		out = append(m.workspaceMCPs(id), m.dashboardMCPs(e)...)
	default:
		// A content type this sink does not know yet: nothing DataHub's source would make.
		return nil, nil
	}
	return out, nil
}

// tableSchemas lists a model's tables from its column-schema metadata, following
// dagster-powerbi's entries, in a stable order.
func tableSchemas(s *spec.AssetSpec) []struct {
	name   string
	schema spec.TableSchema
} {
	var out []struct {
		name   string
		schema spec.TableSchema
	}
	for name, md := range s.Metadata {
		ts, ok := md.Value.(spec.TableSchema)
		if !ok {
			continue
		}
		table := ""
		switch {
		case name == "dagster/column_schema":
			table, _ = s.Metadata["dagster/table_name"].Value.(string)
			if table == "" {
				table = s.PowerBI.Name
			}
		case strings.HasSuffix(name, "_column_schema"):
			table = strings.TrimSuffix(name, "_column_schema")
		default:
			continue
		}
		out = append(out, struct {
			name   string
			schema spec.TableSchema
		}{table, ts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func (m *mapper) modelMCPs(e *event.Event) ([]MCP, []string) {
	s := e.Spec
	id := s.PowerBI
	murn, mkey := m.n.modelContainerURN(id.ID)
	wsURN, _ := m.containerOf(id)
	name := id.Name
	if name == "" {
		name = id.ID
	}
	props := customProperties(s)
	for k, v := range mkey {
		props[k] = v
	}
	cp := map[string]any{"name": name, "customProperties": props}
	if s.Description != "" {
		cp["description"] = s.Description
	}
	if u := webURL(s); u != "" {
		cp["externalUrl"] = u
	}
	out := []MCP{
		{"container", murn, "containerProperties", cp},
		{"container", murn, "dataPlatformInstance", m.platformInstance()},
		{"container", murn, "subTypes", map[string]any{"typeNames": []string{"Semantic Model"}}},
	}
	out = append(out, m.common("container", murn, s, wsURN)...)

	upstreams := m.upstreams(e)
	perTable := m.tableUpstreams(s)
	var tables []string
	for _, t := range tableSchemas(s) {
		turn := m.n.tableURN(name, t.name)
		tables = append(tables, turn)
		dp := map[string]any{"name": t.name, "customProperties": map[string]string{
			"datasetId": id.ID, "datasetName": name, "workspaceId": id.WorkspaceID, "workspaceName": id.WorkspaceName,
			"pbisyncKey": s.Key.String(),
		}}
		if s.Description != "" {
			dp["description"] = s.Description
		}
		if u := webURL(s); u != "" {
			dp["externalUrl"] = u
		}
		fields := make([]map[string]any, 0, len(t.schema.Columns))
		for _, c := range t.schema.Columns {
			f := map[string]any{
				"fieldPath": c.Name, "nativeDataType": c.Type, "type": fieldType(c.Type),
				"nullable": false, "recursive": false, "isPartOfKey": false,
			}
			if c.Description != "" {
				f["description"] = c.Description
			}
			fields = append(fields, f)
		}
		out = append(out,
			MCP{"dataset", turn, "datasetProperties", dp},
			MCP{"dataset", turn, "subTypes", map[string]any{"typeNames": []string{"Table"}}},
			MCP{"dataset", turn, "dataPlatformInstance", m.platformInstance()},
			MCP{"dataset", turn, "schemaMetadata", map[string]any{
				"schemaName": t.name, "platform": platformURN(Platform), "version": 0, "hash": "",
				"platformSchema": map[string]any{"com.linkedin.schema.OtherSchema": map[string]any{"rawSchema": ""}},
				"fields":         fields,
			}},
		)
		out = append(out, m.common("dataset", turn, s, murn)...)
		tableUps := upstreams
		var columns map[string][]string
		if l, ok := perTable[strings.ToLower(t.name)]; ok {
			tableUps, columns = l.upstreams, l.columns // the table's own sources, from its Power Query M
		}
		if len(tableUps) > 0 {
			ups := make([]map[string]any, 0, len(tableUps))
			for _, u := range tableUps {
				ups = append(ups, map[string]any{"dataset": u, "type": "TRANSFORMED", "auditStamp": auditStamp()})
			}
			aspect := map[string]any{"upstreams": ups}
			if len(columns) > 0 {
				aspect["fineGrainedLineages"] = fineGrained(turn, columns)
			}
			out = append(out, MCP{"dataset", turn, "upstreamLineage", aspect})
		}
	}
	return out, tables
}

// tableLineage is one model table's own lineage, from pbisync's Power Query M resolver.
type tableLineage struct {
	upstreams []string            // dataset URNs
	columns   map[string][]string // column (lower-case) -> upstream schemaField URNs
}

// tableUpstreams reads the lineage pbisync resolved from each table's Power Query M
// (metadata powerbi/table_lineage) into dataset URNs per model table, on the platform the
// M names (snowflake, mssql, ...), with the upstream columns of each column where the M
// or SQL named them. Tables it does not list fall back to the model's upstreams.
func (m *mapper) tableUpstreams(s *spec.AssetSpec) map[string]tableLineage {
	out := map[string]tableLineage{}
	for _, tl := range jsonList(s, "powerbi/table_lineage") {
		table := str(tl, "table")
		list, _ := tl["upstream"].([]any)
		var urns []string
		for _, x := range list {
			if u, ok := x.(map[string]any); ok {
				if urn := m.upstreamURN(u); urn != "" {
					urns = append(urns, urn)
				}
			}
		}
		if table == "" || len(urns) == 0 {
			continue
		}
		l := tableLineage{upstreams: urns, columns: map[string][]string{}}
		cols, _ := tl["columns"].([]any)
		for _, x := range cols {
			c, _ := x.(map[string]any)
			name := str(c, "column")
			ups, _ := c["upstream"].([]any)
			for _, y := range ups {
				u, _ := y.(map[string]any)
				field := str(u, "column")
				urn := m.upstreamURN(u)
				if name == "" || field == "" || urn == "" {
					continue
				}
				if m.upstream.lowercase() {
					field = strings.ToLower(field)
				}
				l.columns[strings.ToLower(name)] = append(l.columns[strings.ToLower(name)], schemaFieldURN(urn, field))
			}
		}
		out[strings.ToLower(table)] = l
	}
	return out
}

// upstreamURN names a warehouse table of the resolved lineage as a DataHub dataset.
func (m *mapper) upstreamURN(u map[string]any) string {
	if str(u, "table") == "" || str(u, "platform") == "powerbi-dataflow" {
		// A dataflow entity is no warehouse table.
		return ""
	}
	for _, p := range strings.Split(str(u, "unknown"), ",") {
		if p == "database" || p == "schema" {
			return "" // a shorter name could be another table
		}
	}
	keys := []string{"database", "schema", "table"}
	if str(u, "platform") == "fabric-onelake" {
		// OneLake tables: {workspace id}.{item id}.{schema}.{table}, as DataHub names them.
		keys = []string{"server", "database", "schema", "table"}
	}
	var parts []string
	for _, k := range keys {
		if v := str(u, k); v != "" {
			parts = append(parts, v)
		}
	}
	return m.warehouseURN(str(u, "platform"), parts)
}

// warehouseURN names a warehouse table on a platform: its name parts joined with ".",
// lower-cased and prefixed with upstream.instance as configured (the instance only for
// the configured platform, or for any when none is).
func (m *mapper) warehouseURN(platform string, parts []string) string {
	name := strings.Join(parts, ".")
	if m.upstream.lowercase() {
		name = strings.ToLower(name)
	}
	if m.upstream.Instance != "" && (m.upstream.Platform == "" || m.upstream.Platform == platform) {
		name = m.upstream.Instance + "." + name
	}
	return datasetURN(platform, name, m.upstream.env())
}

// fineGrained lists a table's column-level lineage as DataHub FineGrainedLineage records.
func fineGrained(tableURN string, columns map[string][]string) []map[string]any {
	names := make([]string, 0, len(columns))
	for c := range columns {
		names = append(names, c)
	}
	sort.Strings(names)
	out := make([]map[string]any, 0, len(names))
	for _, c := range names {
		out = append(out, map[string]any{
			"upstreamType": "FIELD_SET", "upstreams": columns[c],
			"downstreamType": "FIELD", "downstreams": []string{schemaFieldURN(tableURN, c)},
			"confidenceScore": 1.0,
		})
	}
	return out
}

// upstreams maps a model's dependencies to dataset URNs: other models' tables (from the
// event's related assets), and warehouse tables (keys of two or more parts that are no
// Power BI asset) on the configured upstream platform. Data sources are not entities in
// DataHub's Power BI model.
func (m *mapper) upstreams(e *event.Event) []string {
	s := e.Spec
	var out []string
	seen := map[string]bool{}
	add := func(u string) {
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	for _, d := range s.Deps {
		if r, ok := e.RelatedByKey(d); ok {
			for _, t := range m.modelTableURNs(r) {
				add(t)
			}
			continue
		}
		if len(d) < 2 || m.upstream.Platform == "" {
			continue
		}
		add(m.warehouseURN(m.upstream.Platform, d))
	}
	return out
}

// jsonList reads a json metadata value that is a list of objects.
func jsonList(s *spec.AssetSpec, name string) []map[string]any {
	md, ok := s.Metadata[name]
	if !ok || md.Type != spec.TypeJSON {
		return nil
	}
	l, _ := md.Value.([]any)
	var out []map[string]any
	for _, x := range l {
		if o, ok := x.(map[string]any); ok {
			out = append(out, o)
		}
	}
	return out
}

func str(o map[string]any, k string) string {
	v, _ := o[k].(string)
	return v
}

// datasetsOf lists the table datasets of the models a report or dashboard depends on.
func (m *mapper) datasetsOf(e *event.Event) []string {
	var out []string
	for _, d := range e.Spec.Deps {
		if r, ok := e.RelatedByKey(d); ok {
			out = append(out, m.modelTableURNs(r)...)
		}
	}
	return out
}

func (m *mapper) reportMCPs(e *event.Event) []MCP {
	s := e.Spec
	id := s.PowerBI
	urn := m.n.reportURN(id.ID)
	wsURN, _ := m.containerOf(id)
	datasets := m.datasetsOf(e)
	var out []MCP
	var charts []string
	for _, p := range jsonList(s, "powerbi/pages") {
		pname := str(p, "name")
		if pname == "" {
			continue
		}
		curn := m.n.pageURN(id.ID, pname)
		charts = append(charts, curn)
		title := str(p, "displayName")
		if title == "" {
			title = pname
		}
		inputs := make([]map[string]any, 0, len(datasets))
		for _, d := range datasets {
			inputs = append(inputs, map[string]any{"string": d})
		}
		out = append(out,
			MCP{"chart", curn, "chartInfo", map[string]any{"title": title, "description": title,
				"lastModified": changeAuditStamps(), "inputs": inputs, "customProperties": map[string]string{"reportId": id.ID, "pageName": pname}}},
			MCP{"chart", curn, "status", map[string]any{"removed": false}},
			MCP{"chart", curn, "subTypes", map[string]any{"typeNames": []string{"Report Page"}}},
		)
		if wsURN != "" {
			out = append(out, MCP{"chart", curn, "container", map[string]any{"container": wsURN}})
		}
	}
	info := map[string]any{"title": id.Name, "description": s.Description, "charts": orEmpty(charts),
		"datasets": orEmpty(datasets), "lastModified": changeAuditStamps(), "customProperties": customProperties(s)}
	if u := webURL(s); u != "" {
		info["dashboardUrl"] = u
	}
	out = append(out,
		MCP{"dashboard", urn, "dashboardInfo", info},
		MCP{"dashboard", urn, "subTypes", map[string]any{"typeNames": []string{"Report"}}},
		MCP{"dashboard", urn, "dataPlatformInstance", m.platformInstance()},
	)
	return append(out, m.common("dashboard", urn, s, wsURN)...)
}

func (m *mapper) dashboardMCPs(e *event.Event) []MCP {
	s := e.Spec
	id := s.PowerBI
	urn := m.n.powerbiDashboardURN(id.ID)
	wsURN, _ := m.containerOf(id)
	var out []MCP
	var charts []string
	for _, t := range jsonList(s, "powerbi/tiles") {
		tid := str(t, "id")
		if tid == "" {
			continue
		}
		curn := m.n.tileURN(tid)
		charts = append(charts, curn)
		title := str(t, "title")
		props := map[string]string{}
		var inputs []map[string]any
		info := map[string]any{"title": title, "description": title, "lastModified": changeAuditStamps(), "customProperties": props}
		if r := str(t, "reportId"); r != "" {
			props["reportId"] = r
			// As DataHub's source does: a tile made from a report links to the report.
			if rel, ok := e.RelatedByID(spec.Report, r); ok && rel.WebURL != "" {
				info["externalUrl"] = rel.WebURL
			}
		}
		if d := str(t, "datasetId"); d != "" {
			props["datasetId"] = d
			if rel, ok := e.RelatedByID(spec.SemanticModel, d); ok {
				for _, tu := range m.modelTableURNs(rel) {
					inputs = append(inputs, map[string]any{"string": tu})
				}
			}
		}
		info["inputs"] = orEmpty(inputs)
		out = append(out,
			MCP{"chart", curn, "chartInfo", info},
			MCP{"chart", curn, "status", map[string]any{"removed": false}},
		)
		if wsURN != "" {
			out = append(out, MCP{"chart", curn, "container", map[string]any{"container": wsURN}})
		}
	}
	props := customProperties(s)
	props["chartCount"] = fmt.Sprint(len(charts))
	info := map[string]any{"title": id.Name, "description": s.Description, "charts": orEmpty(charts),
		"datasets": orEmpty(m.datasetsOf(e)), "lastModified": changeAuditStamps(), "customProperties": props}
	if u := webURL(s); u != "" {
		info["dashboardUrl"] = u
	}
	out = append(out,
		MCP{"dashboard", urn, "dashboardInfo", info},
		MCP{"dashboard", urn, "subTypes", map[string]any{"typeNames": []string{"Dashboard"}}},
		MCP{"dashboard", urn, "dataPlatformInstance", m.platformInstance()},
	)
	return append(out, m.common("dashboard", urn, s, wsURN)...)
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// removedMCPs soft-deletes what an asset made: status {removed: true}.
func (m *mapper) removedMCPs(r *event.Removed) []MCP {
	removed := map[string]any{"removed": true}
	id := r.PowerBI
	switch id.Type {
	case spec.Report:
		return []MCP{{"dashboard", m.n.reportURN(id.ID), "status", removed}}
	case spec.Dashboard:
		return []MCP{{"dashboard", m.n.powerbiDashboardURN(id.ID), "status", removed}}
	case spec.SemanticModel:
		urn, _ := m.n.modelContainerURN(id.ID)
		out := []MCP{{"container", urn, "status", removed}}
		for _, t := range m.tables[id.ID] {
			out = append(out, MCP{"dataset", t, "status", removed})
		}
		return out
	}
	return nil
}
