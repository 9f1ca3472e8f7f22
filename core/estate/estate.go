// Package estate is the read side of pbisync: the Power BI estate of a pipeline's last
// completed sync as a graph (warehouse tables -> data sources and semantic models ->
// reports -> dashboards), with search, neighbourhoods and impact analysis. It is built from
// the summaries the estate sink keeps in the state store, or from specs in memory (a
// snapshot file), and serves the JSON API and the web UI of `pbisync serve` and
// `pbisync ui`, and `pbisync impact`.
package estate

import (
	"encoding/json"
	"strings"

	"github.com/pbisync/pbisync/sdk/spec"
)

// TypeTable is the type of a node that no synced asset is: an upstream table (or any other
// dep key outside the estate), known only because an asset depends on it.
const TypeTable = "table"

// Summary is what the graph keeps of an asset; the rest of its spec is read on demand.
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
	// Columns maps a model table's column to the upstream columns it reads, where the M or
	// SQL names them: "Table.Column" -> ["db.schema.table.column", ...].
	Columns map[string][]string `json:"columns,omitempty"`
}

// maxDescription bounds the description a summary keeps; the node page reads the spec.
const maxDescription = 300

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
	if m, ok := s.Metadata["powerbi/table_lineage"]; ok {
		sum.Columns = columnLineage(m.Value)
	}
	return sum
}

// columnLineage reads the column edges of a powerbi/table_lineage value, whatever Go
// type the metadata decoder gave it (a decoded spec holds any, an in-memory one a slice
// of structs): it goes through JSON once, which only happens for models.
func columnLineage(v any) map[string][]string {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var tables []struct {
		Table   string `json:"table"`
		Columns []struct {
			Column   string     `json:"column"`
			Upstream []upstream `json:"upstream"`
		} `json:"columns"`
	}
	if json.Unmarshal(b, &tables) != nil {
		return nil
	}
	out := map[string][]string{}
	for _, t := range tables {
		for _, c := range t.Columns {
			for _, u := range c.Upstream {
				if u.Table == "" || u.Column == "" {
					continue
				}
				out[t.Table+"."+c.Column] = append(out[t.Table+"."+c.Column], u.name()+"."+u.Column)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

type upstream struct {
	Database string `json:"database"`
	Schema   string `json:"schema"`
	Table    string `json:"table"`
	Column   string `json:"column"`
}

func (u upstream) name() string {
	var parts []string
	for _, p := range []string{u.Database, u.Schema, u.Table} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ".")
}
