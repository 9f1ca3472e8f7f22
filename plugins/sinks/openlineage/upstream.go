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

// upstreamDataset names a warehouse table as OpenLineage's naming spec
// (website/docs/spec/naming.md) does: namespace from the platform and server, name from
// its database, schema and table. A table without a server has no physical name and is
// left out.
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
	var ns string
	switch {
	case platform == "bigquery":
		ns = "bigquery"
	case server == "":
		return dataset{}, false
	case platform == "snowflake":
		ns = "snowflake://" + SnowflakeAccount(server)
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
	case platform == "databricks" && b.cfg.DatabricksNaming == "databricks":
		ns = "databricks://" + hostOnly(server) // dbt's and older producers' form
	case platform == "databricks":
		ns = "unitycatalog://" + hostOnly(server)
	case platform == "athena":
		ns = "awsathena://athena." + server + ".amazonaws.com"
	default:
		ns = platform + "://" + server
	}
	return dataset{Namespace: ns, Name: name}, true
}

// SnowflakeAccount normalizes a Snowflake server (an account URL or identifier) to the
// account part of OpenLineage's Snowflake namespace, as OpenLineage's own normalizer
// (fix_account_name in its common integration) does: an organization-account name
// ("myorg-myaccount") stays as it is; an account locator gets its region and cloud, the
// defaults being us-west-1 and aws ("xy12345" -> "xy12345.us-west-1.aws",
// "xy12345.eu-west-1" -> "xy12345.eu-west-1.aws").
func SnowflakeAccount(server string) string {
	host, _, _ := strings.Cut(server, "/")
	host, _, _ = strings.Cut(host, ":") // a port; account identifiers have no colons
	host = strings.TrimSuffix(strings.ToLower(host), ".snowflakecomputing.com")
	parts := strings.Split(host, ".")
	switch {
	case strings.Contains(parts[0], "-"):
		return parts[0]
	case len(parts) == 1:
		return parts[0] + ".us-west-1.aws"
	case len(parts) == 2:
		return parts[0] + "." + parts[1] + ".aws"
	}
	return host
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
