package assets

import (
	"sort"
	"strings"

	"github.com/pbisync/pbisync/sdk/spec"
)

// TableNames lists a semantic model's tables as its spec's metadata names them, by
// dagster-powerbi's convention: "dagster/column_schema" with "dagster/table_name" for a
// one-table model, "<table>_column_schema" for each table of the others. Sorted.
func TableNames(s *spec.AssetSpec) []string {
	var out []string
	for name, md := range s.Metadata {
		if md.Type != spec.TypeTableSchema {
			continue
		}
		switch {
		case name == MetaColumnSchema:
			t, _ := s.Metadata[MetaTableName].Value.(string)
			if t == "" {
				t = s.PowerBI.Name
			}
			out = append(out, t)
		case strings.HasSuffix(name, "_column_schema"):
			out = append(out, strings.TrimSuffix(name, "_column_schema"))
		}
	}
	sort.Strings(out)
	return out
}

// TableNamesAsNamed lists a semantic model's tables in their own case, from its
// "powerbi/tables" metadata (as built here, or as JSON after a translator), in the
// model's own order (DataHub lists a tile's inputs so); nil when the spec has none.
func TableNamesAsNamed(s *spec.AssetSpec) []string {
	md, ok := s.Metadata[NamespacePowerBI+"tables"]
	if !ok || md.Type != spec.TypeJSON {
		return nil
	}
	var out []string
	switch v := md.Value.(type) {
	case TableInfos:
		for _, t := range v {
			out = append(out, t.Name)
		}
	case []TableInfo:
		for _, t := range v {
			out = append(out, t.Name)
		}
	case []any:
		for _, x := range v {
			if t, ok := x.(map[string]any); ok {
				if n, _ := t["name"].(string); n != "" {
					out = append(out, n)
				}
			}
		}
	}
	return out
}
