// Package estate is the read side of pbisync: the Power BI estate of a pipeline's last
// completed sync as a graph (warehouse tables -> data sources and semantic models ->
// reports -> dashboards), with search, neighbourhoods and impact analysis. It is built from
// the summaries the estate sink keeps in the state store, or from specs in memory (a
// snapshot file), and serves the JSON API and the web UI of `pbisync serve` and
// `pbisync ui`, and `pbisync impact`.
package estate

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/pbisync/pbisync/core/assets"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/sdk/spec"
	"github.com/pbisync/pbisync/sdk/spec/jsonenc"
)

// TypeTable is the type of a node that no synced asset is: an upstream table (or any other
// dep key outside the estate), known only because an asset depends on it.
const TypeTable = "table"

// Summary is what the graph keeps of an asset; its page (columns, measures, what it
// reads, the rest of its metadata) is read on demand.
type Summary struct {
	Key           spec.Key          `json:"key"`
	Deps          []spec.Key        `json:"deps,omitempty"`
	Type          string            `json:"type"`
	ID            string            `json:"id,omitempty"`
	Name          string            `json:"name,omitempty"`
	WorkspaceID   string            `json:"workspaceId,omitempty"`
	WorkspaceName string            `json:"workspaceName,omitempty"`
	Owners        []string          `json:"owners,omitempty"`
	Endorsement   string            `json:"endorsement,omitempty"`
	URL           string            `json:"url,omitempty"`
	Kinds         []string          `json:"kinds,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
	Group         string            `json:"group,omitempty"`
	Description   string            `json:"description,omitempty"`
	// ColumnLineage is set when the asset's page has column-level lineage.
	ColumnLineage bool `json:"columnLineage,omitempty"`
}

// maxDescription bounds the description a summary keeps; the page has all of it.
const maxDescription = 300

// AppendJSON appends the summary's JSON, as json.Marshal writes it: a sync writes one
// per asset, and reflection was most of what that cost.
func (s *Summary) AppendJSON(dst []byte) []byte {
	str := func(name, v string) {
		if v != "" {
			dst = append(dst, name...)
			dst = jsonenc.AppendString(dst, v, true)
		}
	}
	strs := func(name string, v []string) {
		if len(v) > 0 {
			dst = append(dst, name...)
			dst = jsonenc.AppendStrings(dst, v, true)
		}
	}
	dst = append(dst, `{"key":`...)
	dst = jsonenc.AppendStrings(dst, s.Key, true)
	if len(s.Deps) > 0 {
		dst = append(dst, `,"deps":`...)
		dst = jsonenc.AppendLists(dst, s.Deps, true)
	}
	dst = append(dst, `,"type":`...)
	dst = jsonenc.AppendString(dst, s.Type, true)
	str(`,"id":`, s.ID)
	str(`,"name":`, s.Name)
	str(`,"workspaceId":`, s.WorkspaceID)
	str(`,"workspaceName":`, s.WorkspaceName)
	strs(`,"owners":`, s.Owners)
	str(`,"endorsement":`, s.Endorsement)
	str(`,"url":`, s.URL)
	strs(`,"kinds":`, s.Kinds)
	if len(s.Tags) > 0 {
		dst = append(dst, `,"tags":`...)
		dst = jsonenc.AppendStringMap(dst, s.Tags, true)
	}
	str(`,"group":`, s.Group)
	str(`,"description":`, s.Description)
	if s.ColumnLineage {
		dst = append(dst, `,"columnLineage":true`...)
	}
	return append(dst, '}')
}

// Summarize returns the summary of a spec.
func Summarize(s *spec.AssetSpec) Summary {
	sum := Summary{
		Key: s.Key, Deps: s.Deps, Type: string(s.PowerBI.Type), ID: s.PowerBI.ID, Name: s.PowerBI.Name,
		WorkspaceID: s.PowerBI.WorkspaceID, WorkspaceName: s.PowerBI.WorkspaceName,
		Owners: s.Owners, Kinds: s.Kinds, Tags: s.Tags, Group: s.Group, Description: s.Description,
	}
	if len(sum.Description) > maxDescription {
		sum.Description = sum.Description[:maxDescription] + "…"
	}
	if m, ok := s.Metadata["powerbi/endorsement"]; ok {
		sum.Endorsement, _ = m.Value.(string)
	}
	for _, k := range []string{"dagster-powerbi/web_url", "powerbi/web_url"} {
		if m, ok := s.Metadata[k]; ok && sum.URL == "" {
			sum.URL, _ = m.Value.(string)
		}
	}
	_, sum.ColumnLineage = s.Metadata["powerbi/table_lineage"]
	return sum
}

// Page is what an asset's page shows besides its summary, in a compact form: a model's
// tables with their columns, what each table and column reads, its measures, and the rest
// of its metadata as plain values.
type Page struct {
	Description string         `json:"fullDescription,omitempty"` // the summary's is cut
	Tables      []Table        `json:"tables,omitempty"`
	Measures    []Measure      `json:"measures,omitempty"`
	Metadata    map[string]any `json:"metadata,omitempty"`
}

// Table is a model table: its columns and the upstream tables it reads.
type Table struct {
	Name       string   `json:"name"`
	Upstream   []string `json:"upstream,omitempty"`   // db.schema.table
	Expression string   `json:"expression,omitempty"` // where a spec carries it
	Columns    []Column `json:"columns,omitempty"`
}

// Column is a column of a model table; Reads names the upstream columns it reads
// ("db.schema.table.column"), where the M or SQL names them.
type Column struct {
	Name  string   `json:"n"`
	Type  string   `json:"t,omitempty"`
	Reads []string `json:"r,omitempty"`
}

// Measure is a DAX measure of a model.
type Measure struct {
	Table      string   `json:"table,omitempty"`
	Name       string   `json:"name"`
	Expression string   `json:"expression,omitempty"`
	References []string `json:"references,omitempty"`
}

// PageOf returns the page of a spec: table schemas, table lineage and measures become
// Tables and Measures; every other metadata entry is kept as its plain value.
func PageOf(s *spec.AssetSpec) Page {
	p := Page{Description: s.Description}
	tables := map[string]int{}
	// table returns the named table, adding it; the pointer is good until the next call.
	table := func(name string) *Table {
		if i, ok := tables[name]; ok {
			return &p.Tables[i]
		}
		tables[name] = len(p.Tables)
		p.Tables = append(p.Tables, Table{Name: name})
		return &p.Tables[len(p.Tables)-1]
	}
	// Lineage first, so its tables come in the model's order. A spec built in this process
	// holds the builder's own types; one decoded from JSON holds plain values.
	var lineage []snapshot.TableLineage
	type colReads struct {
		name  string // as the model names it (schemas may lower-case it)
		reads []string
	}
	// Keyed by table and lower-cased column: no key string is built per column.
	type colKey struct{ table, column string }
	reads := map[colKey]*colReads{}
	if m, ok := s.Metadata["powerbi/table_lineage"]; ok {
		if v, ok := m.Value.(assets.TableLineages); ok {
			lineage = v
		} else if v, ok := m.Value.([]snapshot.TableLineage); ok {
			lineage = v
		} else if remarshal(m.Value, &lineage) != nil {
			lineage = nil
		}
		for _, l := range lineage {
			t := table(l.Table)
			for _, u := range l.Upstream {
				t.Upstream = append(t.Upstream, upstreamName(u))
			}
			for _, c := range l.Columns {
				for _, u := range c.Upstream {
					if u.Table == "" || u.Column == "" {
						continue
					}
					k := colKey{l.Table, strings.ToLower(c.Column)}
					if reads[k] == nil {
						reads[k] = &colReads{name: c.Column}
					}
					reads[k].reads = append(reads[k].reads, upstreamName(u.UpstreamTable)+"."+u.Column)
				}
			}
		}
	}
	// The model's own tables, with names in their own case and their M, where the spec has
	// them; otherwise the column schemas below give the columns.
	var own []assets.TableInfo
	if m, ok := s.Metadata["powerbi/tables"]; ok {
		if v, ok := m.Value.(assets.TableInfos); ok {
			own = v
		} else if v, ok := m.Value.([]assets.TableInfo); ok {
			own = v
		} else if remarshal(m.Value, &own) != nil {
			own = nil
		}
	}
	for _, ti := range own {
		t := table(ti.Name)
		t.Expression = ti.Source
		t.Columns = slices.Grow(t.Columns, len(ti.Columns))
		for _, c := range ti.Columns {
			col := Column{Name: c.Name, Type: c.DataType}
			if r := reads[colKey{ti.Name, strings.ToLower(c.Name)}]; r != nil {
				col.Reads = r.reads
			}
			t.Columns = append(t.Columns, col)
		}
	}
	p.Metadata = map[string]any{}
	for _, k := range sortedKeys(s.Metadata) {
		m := s.Metadata[k]
		switch {
		case m.Type == spec.TypeTableSchema && own != nil: // the same columns as powerbi/tables
		case m.Type == spec.TypeTableSchema:
			ts, ok := m.Value.(spec.TableSchema)
			if !ok && remarshal(m.Value, &ts) != nil {
				continue
			}
			name := strings.TrimSuffix(k, "_column_schema")
			if k == "dagster/column_schema" {
				name = ""
				if tn, ok := s.Metadata["dagster/table_name"]; ok {
					name, _ = tn.Value.(string)
				}
			}
			t := tableFold(p.Tables, name)
			if t == nil {
				t = table(name)
			}
			t.Columns = slices.Grow(t.Columns, len(ts.Columns))
			for _, c := range ts.Columns {
				col := Column{Name: c.Name, Type: c.Type}
				if r := reads[colKey{t.Name, strings.ToLower(c.Name)}]; r != nil {
					col.Name, col.Reads = r.name, r.reads
				}
				t.Columns = append(t.Columns, col)
			}
		case k == "powerbi/measures":
			v, ok := m.Value.(assets.MeasureInfos)
			if !ok {
				v, ok = m.Value.([]assets.MeasureInfo)
			}
			if ok {
				p.Measures = make([]Measure, len(v))
				for i, mi := range v {
					p.Measures[i] = Measure{Table: mi.Table, Name: mi.Name, Expression: mi.Expression, References: mi.References}
				}
			} else {
				remarshal(m.Value, &p.Measures)
			}
		case k == "powerbi/table_lineage" || k == "powerbi/tables" || k == "dagster/table_name":
		default:
			p.Metadata[k] = m.Value
		}
	}
	// A table whose schema the spec lacks still shows the columns its lineage names.
	for _, l := range lineage {
		t := table(l.Table)
		if len(t.Columns) > 0 {
			continue
		}
		for _, c := range l.Columns {
			col := Column{Name: c.Column}
			if r := reads[colKey{l.Table, strings.ToLower(c.Column)}]; r != nil {
				col.Reads = r.reads
			}
			t.Columns = append(t.Columns, col)
		}
	}
	return p
}

// tableFold finds a table by name, case-insensitively: schema metadata keys are lower-cased
// table names.
func tableFold(ts []Table, name string) *Table {
	for i := range ts {
		if strings.EqualFold(ts[i].Name, name) || strings.EqualFold(strings.ReplaceAll(ts[i].Name, " ", "_"), name) {
			return &ts[i]
		}
	}
	return nil
}

// ColumnLineage returns the page's column edges: "Table.Column" -> the upstream columns
// it reads ("db.schema.table.column").
func (p *Page) ColumnLineage() map[string][]string {
	var out map[string][]string
	for _, t := range p.Tables {
		for _, c := range t.Columns {
			if len(c.Reads) > 0 {
				if out == nil {
					out = map[string][]string{}
				}
				out[t.Name+"."+c.Name] = c.Reads
			}
		}
	}
	return out
}

func remarshal(v, into any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, into)
}

// upstreamName is an upstream table's dotted name: database.schema.table, as far as known.
func upstreamName(u snapshot.UpstreamTable) string {
	var parts []string
	for _, p := range []string{u.Database, u.Schema, u.Table} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ".")
}
