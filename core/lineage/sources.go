package lineage

import (
	"slices"
	"strings"

	"github.com/pbisync/pbisync/core/lineage/sqltables"
	"github.com/pbisync/pbisync/core/snapshot"
)

// connector describes a warehouse connector function: its platform, how its
// arguments give server and database, and the navigation levels below it.
type connector struct {
	platform string
	// args: "server" (server only), "server,database", "none", or "odbc" (a
	// connection string).
	args string
	// queryOpt is the index of the options record whose Query field holds native
	// SQL, or -1.
	queryOpt int
	// levels are filled in order by navigation steps that name no Kind.
	levels []string
	// queryFn marks Databricks.Query: it returns a function of the SQL text.
	queryFn bool
}

var (
	lvDST = []string{"database", "schema", "table"}
	lvT   = []string{"table"}
)

// connectors are the warehouse connectors pbisync resolves, by M function name.
var connectors = map[string]*connector{
	"Snowflake.Databases":           {platform: "snowflake", args: "server", queryOpt: -1, levels: lvDST},
	"Sql.Database":                  {platform: "mssql", args: "server,database", queryOpt: 2, levels: lvT},
	"Sql.Databases":                 {platform: "mssql", args: "server", queryOpt: -1, levels: []string{"database", "table"}},
	"PostgreSQL.Database":           {platform: "postgres", args: "server,database", queryOpt: 2, levels: lvT},
	"Oracle.Database":               {platform: "oracle", args: "server", queryOpt: 1, levels: lvT},
	"MySQL.Database":                {platform: "mysql", args: "server,database", queryOpt: 2, levels: lvT},
	"Databricks.Catalogs":           {platform: "databricks", args: "server", queryOpt: -1, levels: lvDST},
	"DatabricksMultiCloud.Catalogs": {platform: "databricks", args: "server", queryOpt: -1, levels: lvDST},
	"Databricks.Contents":           {platform: "databricks", args: "server", queryOpt: -1, levels: lvDST},
	"Databricks.Query":              {platform: "databricks", args: "server", queryOpt: -1, queryFn: true},
	"DatabricksMultiCloud.Query":    {platform: "databricks", args: "server", queryOpt: -1, queryFn: true},
	"GoogleBigQuery.Database":       {platform: "bigquery", args: "none", queryOpt: -1, levels: lvDST},
	"GoogleBigQueryAad.Database":    {platform: "bigquery", args: "none", queryOpt: -1, levels: lvDST},
	"AmazonRedshift.Database":       {platform: "redshift", args: "server,database", queryOpt: -1, levels: []string{"schema", "table"}},
	"AmazonAthena.Databases":        {platform: "athena", args: "server", queryOpt: -1, levels: lvDST},
	"Odbc.DataSource":               {platform: "odbc", args: "odbc", queryOpt: -1, levels: lvDST},
}

var odbc = connectors["Odbc.DataSource"]

// formatFunctions read files or web content: their result is data, not a warehouse table.
var formatFunctions = map[string]bool{
	"Excel.Workbook": true, "Csv.Document": true, "Xml.Tables": true, "Xml.Document": true,
	"Parquet.Document": true, "Pdf.Tables": true, "Access.Database": true, "Web.Page": true,
	"Web.BrowserContents": true, "Lines.FromBinary": true,
}

// nonTableSources are data access functions for files, web and services.
var nonTableSources = map[string]bool{
	"File.Contents": true, "Web.Contents": true, "Folder.Files": true, "Folder.Contents": true,
	"SharePoint.Files": true, "SharePoint.Contents": true, "SharePoint.Tables": true,
	"OData.Feed": true, "AzureStorage.Blobs": true, "AzureStorage.DataLake": true,
	"AzureStorage.Tables": true, "PowerPlatform.Dataflows": true, "PowerBI.Dataflows": true,
	"AnalysisServices.Database": true, "AnalysisServices.Databases": true, "Salesforce.Objects": true,
	"Salesforce.Reports": true, "Exchange.Contents": true, "ActiveDirectory.Domains": true,
	"Hdfs.Files": true, "Cube.Database": true, "Json.Document": false,
}

// stdlibPrefixes are the namespaces of the M standard library whose functions
// transform values rather than reach data.
var stdlibPrefixes = []string{
	"Table.", "List.", "Text.", "Number.", "Date.", "DateTime.", "DateTimeZone.", "Duration.",
	"Time.", "Record.", "Value.", "Logical.", "Binary.", "BinaryFormat.", "Splitter.", "Combiner.",
	"Comparer.", "Replacer.", "Expression.", "Function.", "Type.", "Int64.", "Int32.", "Int16.",
	"Int8.", "Byte.", "Decimal.", "Double.", "Single.", "Currency.", "Percentage.", "Character.",
	"Uri.", "Lines.", "Json.", "Culture.", "Diagnostics.", "Error.", "Occurrence.", "Order.",
	"JoinKind.", "JoinAlgorithm.", "MissingField.", "GroupKind.", "QuoteStyle.", "ExtraValues.",
	"RoundingMode.", "Precision.", "Compression.", "BinaryEncoding.", "TextEncoding.", "Day.",
	"RelativePosition.", "JoinSide.", "Csv", "Cube.", "Variable.", "#",
}

func isStdlib(name string) bool {
	for _, p := range stdlibPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// textArg returns args[i] as text; otherwise the value to return in its place.
func textArg(args []value, i int) (string, value) {
	if i >= len(args) {
		return "", unknown(ReasonDynamicValue)
	}
	switch v := args[i].(type) {
	case textV:
		return string(v), nil
	case unknownV:
		return "", v
	}
	return "", unknown(ReasonDynamicValue)
}

func (ev *evaluator) builtin(name string, args []value) value {
	if c, ok := connectors[name]; ok {
		return openConnector(c, args)
	}
	if formatFunctions[name] || nonTableSources[name] {
		return dataV{reasons: []string{ReasonUnsupportedSource + ":" + name}}
	}
	switch name {
	case "Value.NativeQuery":
		if len(args) < 2 {
			return unknown(ReasonDynamicValue)
		}
		switch t := args[0].(type) {
		case navV:
			return nativeQuery(t, args[1])
		case queryFnV:
			return nativeQuery(t.ctx, args[1])
		case dataV:
			return t
		}
		return dynamicSource(args[0])
	case "Odbc.Query":
		conn, bad := textArg(args, 0)
		if bad != nil {
			return bad
		}
		if len(args) < 2 {
			return unknown(ReasonDynamicValue)
		}
		return nativeQuery(navV{conn: odbc, server: odbcServer(conn)}, args[1])
	case "Function.Invoke":
		if len(args) == 2 {
			if l, ok := args[1].(listV); ok {
				return ev.call(args[0], l)
			}
		}
		return unknown(ReasonDynamicValue)
	case "List.Transform":
		// Over a known list, each item's source is determinable.
		if len(args) == 2 {
			l, ok1 := args[0].(listV)
			f, ok2 := args[1].(funcV)
			if ok1 && ok2 {
				out := make(listV, len(l))
				for i, item := range l {
					out[i] = ev.call(f, []value{item})
				}
				return out
			}
		}
	case "Expression.Evaluate":
		return unknown(ReasonDynamicValue)
	case "Text.Combine":
		if len(args) == 0 {
			break
		}
		if l, ok := args[0].(listV); ok {
			sep := ""
			if len(args) > 1 {
				if s, ok := args[1].(textV); ok {
					sep = string(s)
				}
			}
			parts := make([]string, 0, len(l))
			for _, p := range l {
				switch t := p.(type) {
				case textV:
					parts = append(parts, string(t))
				case nullV:
				default:
					return opaqueOrUnknown(t)
				}
			}
			return textV(strings.Join(parts, sep))
		}
	case "Text.Upper", "Text.Lower", "Text.Trim", "Text.From":
		if len(args) > 0 {
			if s, ok := args[0].(textV); ok {
				switch name {
				case "Text.Upper":
					return textV(strings.ToUpper(string(s)))
				case "Text.Lower":
					return textV(strings.ToLower(string(s)))
				case "Text.Trim":
					return textV(strings.TrimSpace(string(s)))
				}
				return s
			}
		}
	}
	var data []value
	sources := false
	var firstUnknown value
	for _, a := range args {
		if hasData(a) {
			data = append(data, a)
			sources = sources || hasSource(a)
			if u, ok := a.(unknownV); ok && firstUnknown == nil {
				firstUnknown = u
			}
		}
		if f, ok := a.(funcV); ok {
			// each fnGetTable([Schema], [Table]) in Table.AddColumn: the rows are
			// unknown, but a source reached through them is still a source.
			if v := ev.probe(f); v != nil {
				data = append(data, v)
				sources = true
			}
		}
	}
	if !sources && firstUnknown != nil {
		return firstUnknown
	}
	if len(data) > 0 {
		// Table.SelectRows, Table.Combine, joins, Json.Document over Web.Contents:
		// the result's lineage is that of its table arguments.
		d := mergeData(data...)
		if len(data) == 1 && len(args) > 0 && hasSource(args[0]) {
			d.cols = columnsAfter(name, colsOf(args[0]), args)
		}
		return d
	}
	if isStdlib(name) {
		return opaqueV{}
	}
	return unknown(ReasonUnknownFunction + ":" + name)
}

// probe calls f with unknown arguments and returns its result when that reaches a
// data source, nil otherwise.
func (ev *evaluator) probe(f funcV) value {
	args := make([]value, len(f.params))
	for i := range args {
		args[i] = unknown(ReasonDynamicValue)
	}
	v := ev.call(f, args)
	switch v.(type) {
	case dataV, navV, queryFnV:
		return v
	}
	return nil
}

// dynamicSource marks a source whose name could not be worked out.
func dynamicSource(v value) value {
	if u, ok := v.(unknownV); ok {
		return dataV{reasons: []string{u.reason}}
	}
	return dataV{reasons: []string{ReasonDynamicValue}}
}

func openConnector(c *connector, args []value) value {
	n := navV{conn: c}
	switch c.args {
	case "server", "server,database":
		s, bad := textArg(args, 0)
		if bad != nil {
			return dynamicSource(bad)
		}
		n.server = s
		if c.args == "server,database" {
			d, bad := textArg(args, 1)
			if bad != nil {
				return dynamicSource(bad)
			}
			n.database = d
		}
	case "odbc":
		s, bad := textArg(args, 0)
		if bad != nil {
			return dynamicSource(bad)
		}
		n.server = odbcServer(s)
	}
	if c.queryOpt >= 0 && c.queryOpt < len(args) {
		if opts, ok := args[c.queryOpt].(*recordV); ok {
			if q, ok := opts.get("Query"); ok {
				return nativeQuery(n, q)
			}
		}
	}
	if c.queryFn {
		return queryFnV{ctx: n}
	}
	return n
}

// odbcServer picks the DSN or server out of an ODBC connection string, leaving out
// everything else (credentials in particular).
func odbcServer(conn string) string {
	found := map[string]string{}
	for _, part := range strings.Split(conn, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		found[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(v), "{}")
	}
	for _, k := range []string{"dsn", "server", "host", "servername"} {
		if v := found[k]; v != "" {
			return v
		}
	}
	return ""
}

// navigate applies one `{[...]}` navigation step.
func (n navV) navigate(r *recordV) value {
	fields := map[string]string{}
	for _, k := range []string{"Name", "Kind", "Schema", "Item", "Catalog", "Database"} {
		v, ok := r.get(k)
		if !ok {
			continue
		}
		switch t := v.(type) {
		case textV:
			fields[k] = string(t)
		case nullV:
		default:
			return dynamicSource(t)
		}
	}
	if item, ok := fields["Item"]; ok {
		if s, ok := fields["Schema"]; ok {
			n.schema = s
		}
		n.table = item
		n.row = true
		return n
	}
	name, ok := fields["Name"]
	if !ok {
		if s, ok := fields["Schema"]; ok {
			// Hierarchical navigation (Oracle, SQL Server): the schema first, then
			// {[Name="table"]}.
			n.schema = s
			n.row = true
			return n
		}
		return unknown(ReasonDynamicValue)
	}
	level := ""
	switch strings.ToLower(fields["Kind"]) {
	case "database", "catalog":
		level = "database"
	case "schema", "folder":
		level = "schema"
	case "table", "view":
		level = "table"
	default:
		for _, l := range n.conn.levels {
			if n.get(l) == "" {
				level = l
				break
			}
		}
	}
	if level == "" {
		return dynamicSource(nil)
	}
	n.set(level, name)
	n.row = true
	return n
}

func (n *navV) get(level string) string {
	switch level {
	case "database":
		return n.database
	case "schema":
		return n.schema
	}
	return n.table
}

func (n *navV) set(level, v string) {
	switch level {
	case "database":
		n.database = v
	case "schema":
		n.schema = v
	default:
		n.table = v
	}
}

// nativeQuery returns the tables a native SQL query reads, in the context of the
// navigation point it runs against.
func nativeQuery(ctx navV, sql value) value {
	var s string
	switch t := sql.(type) {
	case textV:
		s = string(t)
	case partialTextV:
		s = string(t)
	default:
		return dynamicSource(sql)
	}
	tables := sqltables.Extract(s)
	if len(tables) == 0 {
		return dataV{reasons: []string{ReasonSQLNoTables}}
	}
	d := dataV{}
	toUpstream := func(t sqltables.Table) (snapshot.UpstreamTable, bool) { return sqlUpstream(ctx, t) }
	for _, t := range tables {
		u, ok := toUpstream(t)
		if !ok {
			// The table name is computed at refresh time.
			if !slices.Contains(d.reasons, ReasonDynamicValue) {
				d.reasons = append(d.reasons, ReasonDynamicValue)
			}
			continue
		}
		if !slices.Contains(d.up, u) {
			d.up = append(d.up, u)
		}
	}
	d.cols = sqlColumns(s, toUpstream)
	return d
}

// sqlUpstream places a table named in native SQL, filling the parts the SQL leaves
// out from the navigation point the query runs against. ok is false for a name
// with a hole (computed at refresh time).
func sqlUpstream(ctx navV, t sqltables.Table) (snapshot.UpstreamTable, bool) {
	if slices.ContainsFunc(t.Parts, func(p string) bool { return strings.Contains(p, holeText) }) {
		return snapshot.UpstreamTable{}, false
	}
	u := snapshot.UpstreamTable{
		Platform: ctx.conn.platform, Server: ctx.server, Database: ctx.database, Schema: ctx.schema,
	}
	p := t.Parts
	u.Table = p[len(p)-1]
	if len(p) >= 2 {
		u.Schema = p[len(p)-2]
	}
	if len(p) >= 3 {
		u.Database = p[len(p)-3]
	}
	if len(p) >= 4 {
		u.Server = p[len(p)-4]
	}
	return u, true
}
