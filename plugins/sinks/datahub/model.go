package datahub

import (
	"sort"
	"strings"

	"github.com/pbisync/pbisync/sdk/spec"
)

// modelTable is one table of a semantic model, in its own case.
type modelTable struct {
	name     string
	source   string // Power Query M
	columns  []tableField
	measures []tableField
}

type tableField struct {
	name, dataType, description string
}

// modelTables lists a model's tables from powerbi/tables (names in their own case, with
// measures and M); specs without it fall back to dagster-powerbi's column schemas.
func modelTables(s *spec.AssetSpec) []modelTable {
	if ts := jsonList(s, "powerbi/tables"); ts != nil {
		out := make([]modelTable, 0, len(ts))
		for _, t := range ts {
			mt := modelTable{name: str(t, "name"), source: str(t, "source")}
			if mt.name == "" {
				continue
			}
			cols, _ := t["columns"].([]any)
			for _, x := range cols {
				c, _ := x.(map[string]any)
				if str(c, "name") != "" {
					mt.columns = append(mt.columns, tableField{name: str(c, "name"), dataType: str(c, "dataType")})
				}
			}
			ms, _ := t["measures"].([]any)
			for _, x := range ms {
				c, _ := x.(map[string]any)
				if str(c, "name") == "" {
					continue
				}
				// As DataHub's to_datahub_schema_field: a measure's description is its DAX,
				// then its own description.
				desc := str(c, "expression")
				if d := str(c, "description"); d != "" {
					desc += " " + d
				}
				mt.measures = append(mt.measures, tableField{name: str(c, "name"), dataType: "measure", description: desc})
			}
			out = append(out, mt)
		}
		return out
	}
	var out []modelTable
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
		mt := modelTable{name: table}
		for _, c := range ts.Columns {
			mt.columns = append(mt.columns, tableField{name: c.Name, dataType: c.Type, description: c.Description})
		}
		out = append(out, mt)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// mLiterals are the escapes DataHub's source turns back into characters in the M it
// shows (native_sql_parser.remove_special_characters), in its order.
var mLiterals = []struct{ from, to string }{{"#(lf)", "\n"}, {"(lf)", "\n"}, {"#(tab)", "\t"}}

func viewLogic(m string) string {
	for _, r := range mLiterals {
		m = strings.ReplaceAll(m, r.from, r.to)
	}
	return strings.ReplaceAll(m, `""`, `"`)
}

// modelDetailsURL is the model's page as DataHub links it: its web URL + "/details"
// (new_powerbi_dataset).
func modelDetailsURL(s *spec.AssetSpec) string {
	if u := webURL(s); u != "" {
		return strings.TrimSuffix(u, "/") + "/details"
	}
	return ""
}

// modelMCPs follows DataHub's to_datahub_dataset: every table of the model is a dataset,
// in the workspace container (or, with datasets_to_containers, in a container of its own
// for the model).
func (m *mapper) modelMCPs(s *spec.AssetSpec) []MCP {
	id := s.PowerBI
	name := id.Name
	if name == "" {
		name = id.ID
	}
	wsURN := m.containerOf(id)
	var out []MCP
	parent, modelEntry := wsURN, map[string]any{"id": name}
	if m.opt.datasetsToContainers {
		murn, mkey := m.n.modelContainerURN(id.ID)
		parent = murn
		modelEntry["urn"] = murn
		props := map[string]string{"env": m.n.env}
		for k, v := range mkey {
			props[k] = v
		}
		if m.opt.pbisyncProperties {
			pbisyncProperties(s, props)
		}
		if wsURN != "" {
			out = append(out, MCP{"container", murn, "container", map[string]any{"container": wsURN}})
		}
		out = append(out,
			MCP{"container", murn, "containerProperties", map[string]any{"name": name, "customProperties": props, "env": m.n.env}},
			MCP{"container", murn, "status", map[string]any{"removed": false}},
			MCP{"container", murn, "dataPlatformInstance", m.platformInstance()},
			MCP{"container", murn, "subTypes", map[string]any{"typeNames": []string{"Semantic Model"}}},
		)
	}

	perTable := m.tableUpstreams(s)
	var tables []string
	for _, t := range modelTables(s) {
		turn := m.n.tableURN(name, t.name)
		tables = append(tables, turn)
		if t.source != "" {
			out = append(out, MCP{"dataset", turn, "viewProperties", map[string]any{
				"materialized": false, "viewLogic": viewLogic(t.source), "viewLanguage": "m_query"}})
		}
		fields := make([]map[string]any, 0, len(t.columns)+len(t.measures))
		for _, c := range append(append([]tableField(nil), t.columns...), t.measures...) {
			f := map[string]any{
				"fieldPath": c.name, "nativeDataType": c.dataType, "type": fieldType(c.dataType),
				"nullable": false, "recursive": false, "isPartOfKey": false,
			}
			if c.dataType == "measure" {
				f["type"] = fieldType("Null")
			}
			if c.description != "" {
				f["description"] = c.description
			}
			fields = append(fields, f)
		}
		out = append(out, MCP{"dataset", turn, "schemaMetadata", map[string]any{
			"schemaName": t.name, "platform": platformURN(Platform), "version": 0, "hash": "",
			"platformSchema": map[string]any{"com.linkedin.schema.OtherSchema": map[string]any{"rawSchema": ""}},
			"fields":         fields,
		}})
		props := map[string]string{"datasetId": id.ID}
		if m.opt.pbisyncProperties {
			pbisyncProperties(s, props)
		}
		dp := map[string]any{"name": t.name, "customProperties": props, "description": s.Description}
		if u := modelDetailsURL(s); u != "" {
			dp["externalUrl"] = u
		}
		out = append(out,
			MCP{"dataset", turn, "datasetProperties", dp},
			MCP{"dataset", turn, "status", map[string]any{"removed": false}},
			MCP{"dataset", turn, "subTypes", map[string]any{"typeNames": []string{"Table"}}},
		)
		out = append(out, m.ownership(turn, "dataset", s, true)...)
		out = append(out,
			MCP{"dataset", turn, "dataPlatformInstance", m.platformInstance()},
			MCP{"dataset", turn, "browsePathsV2", m.browsePath(id, modelEntry)},
		)
		// Lineage is the table's own, from its Power Query M: a table whose M reads no
		// warehouse table (a date table built with List.Dates) has none.
		if l, ok := perTable[strings.ToLower(t.name)]; ok {
			ups := make([]map[string]any, 0, len(l.upstreams))
			for _, u := range l.upstreams {
				ups = append(ups, map[string]any{"dataset": u, "type": "TRANSFORMED", "auditStamp": auditStamp()})
			}
			aspect := map[string]any{"upstreams": ups}
			if len(l.columns) > 0 {
				aspect["fineGrainedLineages"] = fineGrained(turn, l.columns)
			}
			out = append(out, MCP{"dataset", turn, "upstreamLineage", aspect})
		}
		if parent != "" {
			out = append(out, MCP{"dataset", turn, "container", map[string]any{"container": parent}})
		}
		out = append(out, m.tags(turn, "dataset", s)...)
	}
	m.children[id.ID] = tables
	return out
}

// tableLineage is one model table's own lineage, from pbisync's Power Query M resolver.
type tableLineage struct {
	upstreams []string
	columns   []columnLineage
}

type columnLineage struct {
	column    string   // the model table's column, in its own case
	upstreams []string // schemaField URNs
}

// tableUpstreams reads the lineage pbisync resolved from each table's Power Query M
// (metadata powerbi/table_lineage) into dataset URNs per model table (keyed lower-case),
// on the platform the M names, with the upstream columns of each column where the M or
// SQL named them.
func (m *mapper) tableUpstreams(s *spec.AssetSpec) map[string]tableLineage {
	out := map[string]tableLineage{}
	for _, tl := range jsonList(s, "powerbi/table_lineage") {
		table := str(tl, "table")
		list, _ := tl["upstream"].([]any)
		var l tableLineage
		for _, x := range list {
			if u, ok := x.(map[string]any); ok {
				if urn := m.upstreamURN(u); urn != "" {
					l.upstreams = append(l.upstreams, urn)
				}
			}
		}
		if table == "" || len(l.upstreams) == 0 {
			continue
		}
		cols, _ := tl["columns"].([]any)
		for _, x := range cols {
			c, _ := x.(map[string]any)
			cl := columnLineage{column: str(c, "column")}
			ups, _ := c["upstream"].([]any)
			for _, y := range ups {
				u, _ := y.(map[string]any)
				// The dataset part is lower-cased (convert_lineage_urns_to_lowercase), the
				// column keeps its case, as DataHub's source and warehouse sources do.
				if field, urn := str(u, "column"), m.upstreamURN(u); field != "" && urn != "" {
					cl.upstreams = append(cl.upstreams, schemaFieldURN(urn, field))
				}
			}
			if cl.column != "" && len(cl.upstreams) > 0 {
				l.columns = append(l.columns, cl)
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
	platform := str(u, "platform")
	if platform == "" {
		platform = m.upstream.Platform
	}
	if platform == "" {
		return ""
	}
	return m.warehouseURN(platform, parts)
}

// warehouseURN names a warehouse table on a platform: its name parts joined with ".",
// lower-cased and prefixed with upstream.instance as configured (the instance only for
// the configured platform, or for any when none is).
func (m *mapper) warehouseURN(platform string, parts []string) string {
	name := strings.Join(parts, ".")
	if m.upstream.Instance != "" && (m.upstream.Platform == "" || m.upstream.Platform == platform) {
		name = m.upstream.Instance + "." + name
	}
	if m.upstream.lowercase() {
		name = strings.ToLower(name)
	}
	return datasetURN(platform, name, m.upstream.env())
}

// fineGrained lists a table's column-level lineage as DataHub FineGrainedLineage records.
func fineGrained(tableURN string, columns []columnLineage) []map[string]any {
	out := make([]map[string]any, 0, len(columns))
	for _, c := range columns {
		out = append(out, map[string]any{
			"upstreamType": "FIELD_SET", "upstreams": c.upstreams,
			"downstreamType": "FIELD", "downstreams": []string{schemaFieldURN(tableURN, c.column)},
			"confidenceScore": 1.0,
		})
	}
	return out
}
