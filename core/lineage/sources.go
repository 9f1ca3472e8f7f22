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
	// itemNav marks connectors of Power BI and Fabric items, navigated by ids.
	itemNav bool
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
	"AzureStorage.Tables":       true,
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
	if v, ok := openItemSource(name, args); ok {
		return v
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
		case choiceV:
			return overChoice(t, func(v value) value { return ev.builtin(name, append([]value{v}, args[1:]...)) })
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
		return nativeQuery(odbcNav(conn), args[1])
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
	// A server or database given by a value that cannot be worked out (an
	// undefined parameter, a lookup in data) leaves that part unknown; what the
	// navigation or SQL names below it still resolves.
	argText := func(i int, part string) string {
		if i < len(args) {
			if t, ok := args[i].(textV); ok {
				return string(t)
			}
			n = n.withUnknown(part, args[i])
			return ""
		}
		n = n.withUnknown(part, unknown(ReasonDynamicValue))
		return ""
	}
	switch c.args {
	case "server", "server,database":
		n.server = argText(0, "server")
		if c.args == "server,database" {
			n.database = argText(1, "database")
		}
	case "odbc":
		if s, ok := argOf(args, 0).(textV); ok {
			n = odbcNav(string(s))
		} else {
			n = n.withUnknown("server", argOf(args, 0))
		}
	}
	if c.platform == "oracle" && n.server != "" {
		n.database = oracleDatabase(n.server)
	}
	if c.platform == "mssql" && isFabricSQLHost(n.server) {
		// A Fabric Warehouse or Lakehouse SQL analytics endpoint: the database is
		// the item's name.
		n.setPlatform(PlatformOneLake)
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

func argOf(args []value, i int) value {
	if i < len(args) {
		return args[i]
	}
	return unknown(ReasonDynamicValue)
}

// odbcNav reads an ODBC connection string: the DSN (or server/host) becomes the
// server, a driver that names a platform gives the platform, database/catalog and
// schema the defaults. Everything else (credentials in particular) is left out.
func odbcNav(conn string) navV {
	found := map[string]string{}
	for _, part := range strings.Split(conn, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		found[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(v), "{}")
	}
	n := navV{conn: odbc}
	for _, k := range []string{"dsn", "server", "host", "servername"} {
		if v := found[k]; v != "" {
			n.server = v
			break
		}
	}
	if d := found["driver"]; d != "" && found["dsn"] == "" {
		if p := odbcPlatform(d); p != "odbc" {
			n.setPlatform(p)
		}
	}
	for _, k := range []string{"database", "catalog", "initial catalog", "db"} {
		if v := found[k]; v != "" {
			n.database = v
			break
		}
	}
	n.schema = found["schema"]
	return n
}

// odbcServer picks the DSN or server out of an ODBC connection string.
func odbcServer(conn string) string { return odbcNav(conn).server }

// navigate applies one `{[...]}` navigation step.
func (n navV) navigate(r *recordV) value {
	if n.conn.itemNav {
		return n.navigateItems(r)
	}
	fields := map[string]string{}
	odd := map[string]value{} // fields whose value could not be worked out
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
			odd[k] = t
		}
	}
	if v, bad := odd["Item"]; bad {
		return n.lost(v)
	}
	if v, bad := odd["Schema"]; bad {
		n = n.withUnknown("schema", v)
		n.schema = ""
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
	nameVal, nameOdd := odd["Name"]
	if !ok && !nameOdd {
		if s, ok := fields["Schema"]; ok {
			// Hierarchical navigation (Oracle, SQL Server): the schema first, then
			// {[Name="table"]}.
			n.schema = s
			n.row = true
			return n
		}
		if _, bad := odd["Schema"]; bad {
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
			if n.get(l) == "" && !hasUnknown(n.unknown(), l) {
				level = l
				break
			}
		}
	}
	if level == "" {
		return dynamicSource(nil)
	}
	if nameOdd {
		if level == "table" {
			return n.lost(nameVal)
		}
		n = n.withUnknown(level, nameVal)
		n.set(level, "")
		n.row = true
		return n
	}
	n.set(level, name)
	n.setUnknown(dropUnknown(n.unknown(), level))
	n.row = true
	return n
}

// lost is the value of a navigation whose table name cannot be worked out.
func (n navV) lost(v value) value {
	d := dynamicSource(v).(dataV)
	for _, r := range n.reasons() {
		if !slices.Contains(d.reasons, r) {
			d.reasons = append(d.reasons, r)
		}
	}
	return d
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
	if db := sqltables.UseDatabase(s); db != "" {
		ctx.database = db
		ctx.setUnknown(dropUnknown(ctx.unknown(), "database"))
	}
	dialect := sqlDialect(ctx.platformName())
	tables := sqltables.ExtractDialect(s, dialect)
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
	if slices.ContainsFunc(d.up, func(u snapshot.UpstreamTable) bool { return u.Unknown != "" }) {
		for _, r := range ctx.reasons() {
			if !slices.Contains(d.reasons, r) {
				d.reasons = append(d.reasons, r)
			}
		}
	}
	d.cols = sqlColumns(s, dialect, toUpstream)
	return d
}

// sqlDialect returns the lexical rules of a platform's SQL.
func sqlDialect(platform string) sqltables.Dialect {
	switch platform {
	case "snowflake", "mysql", "databricks", "bigquery":
		return sqltables.Dialect{BackslashEscapes: true}
	}
	return sqltables.Dialect{}
}

// sqlUpstream places a table named in native SQL, filling the parts the SQL leaves
// out from the navigation point the query runs against. ok is false for a name
// with a hole (computed at refresh time).
func sqlUpstream(ctx navV, t sqltables.Table) (snapshot.UpstreamTable, bool) {
	if slices.ContainsFunc(t.Parts, func(p string) bool { return strings.Contains(p, holeText) }) {
		return snapshot.UpstreamTable{}, false
	}
	u := snapshot.UpstreamTable{
		Platform: ctx.platformName(), Server: ctx.server, Database: ctx.database, Schema: ctx.schema,
		Unknown: ctx.unknown(),
	}
	p := t.Parts
	u.Table = p[len(p)-1]
	if u.Platform == "mysql" && len(p) >= 2 {
		// MySQL: db.table.
		u.Database, u.Schema = p[len(p)-2], ""
		u.Unknown = dropUnknown(dropUnknown(u.Unknown, "database"), "schema")
		return u, true
	}
	if len(p) >= 2 {
		// `db..table` (T-SQL) leaves the schema to the default.
		u.Schema = p[len(p)-2]
		u.Unknown = dropUnknown(u.Unknown, "schema")
	}
	if len(p) >= 3 {
		u.Database = p[len(p)-3]
		u.Unknown = dropUnknown(u.Unknown, "database")
	}
	if len(p) >= 4 {
		u.Server = p[len(p)-4]
		u.Unknown = dropUnknown(u.Unknown, "server")
	}
	return u, true
}
