package openlineage

import (
	"net"
	"strings"

	"github.com/pbisync/pbisync/sdk/spec"
)

// tableLineage is what pbisync resolved from one model table's Power Query M.
type tableLineage struct {
	inputs  []dataset
	columns map[string][]map[string]any // column (lower-case) -> input fields
}

// tableInputs reads the lineage pbisync resolved from each model table's Power Query M
// (metadata powerbi/table_lineage) as input datasets per model table (keyed lower-case),
// named as OpenLineage's naming conventions name them on each platform, with the input
// fields of each column where the M or SQL named them.
func (b *builder) tableInputs(s *spec.AssetSpec) map[string]tableLineage {
	md, ok := s.Metadata["powerbi/table_lineage"]
	if !ok {
		return nil
	}
	list, _ := md.Value.([]any)
	out := map[string]tableLineage{}
	for _, x := range list {
		tl, _ := x.(map[string]any)
		table, _ := tl["table"].(string)
		if table == "" {
			continue
		}
		l := tableLineage{columns: map[string][]map[string]any{}}
		ups, _ := tl["upstream"].([]any)
		for _, y := range ups {
			u, _ := y.(map[string]any)
			if d, ok := b.upstreamDataset(u); ok {
				l.inputs = append(l.inputs, d)
			}
		}
		cols, _ := tl["columns"].([]any)
		for _, y := range cols {
			c, _ := y.(map[string]any)
			name, _ := c["column"].(string)
			cups, _ := c["upstream"].([]any)
			for _, z := range cups {
				u, _ := z.(map[string]any)
				field, _ := u["column"].(string)
				if d, ok := b.upstreamDataset(u); ok && name != "" && field != "" {
					key := strings.ToLower(name)
					l.columns[key] = append(l.columns[key], map[string]any{"namespace": d.Namespace, "name": d.Name, "field": field})
				}
			}
		}
		if len(l.inputs) > 0 {
			out[strings.ToLower(table)] = l
		}
	}
	return out
}

// columnLineageFacet maps a table's columns to the input fields they come from.
func (b *builder) columnLineageFacet(columns map[string][]map[string]any) map[string]any {
	fields := make(map[string]any, len(columns))
	for c, in := range columns {
		fields[c] = map[string]any{"inputFields": in, "transformationType": "IDENTITY"}
	}
	return b.facet(columnLineageFacetURL, map[string]any{"fields": fields})
}

// upstreamDataset names a warehouse table: namespace from the platform and server
// (https://openlineage.io/docs/spec/naming), name from its database, schema and table.
// Without a server it falls back to the configured upstream namespace.
func (b *builder) upstreamDataset(u map[string]any) (dataset, bool) {
	get := func(k string) string { v, _ := u[k].(string); return v }
	table := get("table")
	if table == "" {
		return dataset{}, false
	}
	var parts []string
	for _, p := range []string{get("database"), get("schema"), table} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	name := strings.Join(parts, ".")
	platform, server := get("platform"), get("server")
	ns := b.cfg.UpstreamNamespace
	switch {
	case platform == "bigquery":
		ns = "bigquery"
	case server == "":
	case platform == "snowflake":
		ns = "snowflake://" + strings.TrimSuffix(strings.ToLower(hostOnly(server)), ".snowflakecomputing.com")
	case platform == "mssql":
		ns = "mssql://" + hostPort(server, "1433")
	case platform == "postgres":
		ns = "postgres://" + hostPort(server, "5432")
	case platform == "mysql":
		ns = "mysql://" + hostPort(server, "3306")
	case platform == "oracle":
		ns = "oracle://" + hostPort(server, "1521")
	case platform == "redshift":
		ns = "redshift://" + hostPort(server, "5439")
	case platform == "databricks":
		ns = "databricks://" + hostOnly(server)
	case platform == "athena":
		ns = "awsathena://athena." + server + ".amazonaws.com"
	default:
		ns = platform + "://" + server
	}
	if ns == "" {
		return dataset{}, false
	}
	return dataset{Namespace: ns, Name: name}, true
}

// hostOnly drops a port and a path from a server name.
func hostOnly(server string) string {
	h, _, _ := strings.Cut(server, "/")
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return h
}

// hostPort normalizes "host", "host:port" and SQL Server's "host,port" to host:port.
func hostPort(server, defPort string) string {
	s := strings.Replace(server, ",", ":", 1)
	s, _, _ = strings.Cut(s, "/")
	if host, port, err := net.SplitHostPort(s); err == nil {
		return net.JoinHostPort(host, port)
	}
	return net.JoinHostPort(s, defPort)
}
