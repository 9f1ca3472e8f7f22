package lineage

import (
	"slices"
	"strings"

	"github.com/pbisync/pbisync/core/snapshot"
)

// platformPath is the full name a platform gives a table, and the schema an
// unqualified name resolves to.
type platformPath struct {
	// levels are the parts above the table that a full name has.
	levels []string
	// defaultSchema is the schema an unqualified name resolves to where the
	// platform fixes one for every connection ("" where it depends on the login).
	defaultSchema string
}

var (
	pathDS = []string{"database", "schema"}
	pathD  = []string{"database"}
)

// platformPaths: SQL Server and Synapse resolve an unqualified name in `dbo`,
// PostgreSQL and Redshift in `public`. Oracle's default schema is the login's,
// Snowflake's and Databricks' the connection's: unknown without a `defaults` rule.
// MySQL has no schema level: a database holds the tables.
var platformPaths = map[string]platformPath{
	"mssql":      {levels: pathDS, defaultSchema: "dbo"},
	"postgres":   {levels: pathDS, defaultSchema: "public"},
	"redshift":   {levels: pathDS, defaultSchema: "public"},
	"snowflake":  {levels: pathDS},
	"oracle":     {levels: pathDS},
	"databricks": {levels: pathDS},
	"bigquery":   {levels: pathDS},
	"athena":     {levels: pathDS},
	"mysql":      {levels: pathD},
	"hive":       {levels: pathD},
	"impala":     {levels: pathD},
	"clickhouse": {levels: pathD},
	"teradata":   {levels: pathD},
	"trino":      {levels: pathDS},
	"presto":     {levels: pathDS},
	"vertica":    {levels: pathDS},
	"db2":        {levels: pathDS},
	// An ODBC source of unknown platform: a name without a database could be
	// [schema, table] or MySQL's [database, table]; it gets no key until an
	// `odbc` rule or the connection string gives the database.
	"odbc": {levels: pathDS},
	// Fabric Lakehouses and Warehouses: a lakehouse without schemas holds its
	// tables in dbo, as its SQL analytics endpoint shows them.
	PlatformOneLake: {levels: pathDS, defaultSchema: "dbo"},
}

// oracleDatabase returns the database (service name or SID) of an Oracle server
// string: `host:port/service`, EZConnect `//host:port/service:server/instance`, a
// TNS descriptor `(DESCRIPTION=...(CONNECT_DATA=(SERVICE_NAME=x)))` or `(SID=x)`.
// A bare TNS alias names a database too: it is returned without its domain.
func oracleDatabase(server string) string {
	s := strings.TrimSpace(server)
	if strings.HasPrefix(s, "(") {
		for _, key := range []string{"SERVICE_NAME", "SID"} {
			if v := tnsValue(s, key); v != "" {
				return v
			}
		}
		return ""
	}
	s = strings.TrimPrefix(s, "//")
	if _, rest, ok := strings.Cut(s, "/"); ok {
		// service[:server][/instance]
		rest, _, _ = strings.Cut(rest, "/")
		rest, _, _ = strings.Cut(rest, ":")
		return strings.TrimSpace(rest)
	}
	if strings.Contains(s, ":") {
		// host:port without a service: the listener's default, unknown here.
		return ""
	}
	// A TNS alias, maybe with its NAMES.DEFAULT_DOMAIN: the alias names the database.
	alias, _, _ := strings.Cut(s, ".")
	return alias
}

// tnsValue finds (KEY = value) in a TNS descriptor, ignoring case and blanks.
func tnsValue(desc, key string) string {
	// Upper-case ASCII only, byte for byte: indexes into up must index desc too
	// (strings.ToUpper changes the length of invalid UTF-8).
	b := []byte(desc)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	up := string(b)
	for i := 0; ; {
		j := strings.Index(up[i:], key)
		if j < 0 {
			return ""
		}
		j += i
		rest := strings.TrimLeft(desc[j+len(key):], " \t\r\n")
		before := strings.TrimRight(desc[:j], " \t\r\n")
		if strings.HasSuffix(before, "(") && strings.HasPrefix(rest, "=") {
			v, _, _ := strings.Cut(rest[1:], ")")
			return strings.TrimSpace(v)
		}
		i = j + len(key)
	}
}

// odbcDriverPlatforms map words of an ODBC driver name to a platform.
var odbcDriverPlatforms = []struct{ word, platform string }{
	{"snowflake", "snowflake"}, {"sql server", "mssql"}, {"postgres", "postgres"},
	{"redshift", "redshift"}, {"mysql", "mysql"}, {"mariadb", "mysql"}, {"oracle", "oracle"},
	{"databricks", "databricks"}, {"spark", "databricks"}, {"athena", "athena"},
	{"bigquery", "bigquery"}, {"trino", "trino"}, {"presto", "presto"}, {"vertica", "vertica"},
	{"teradata", "teradata"}, {"db2", "db2"}, {"hive", "hive"}, {"impala", "impala"}, {"clickhouse", "clickhouse"},
}

// odbcPlatform returns the platform an ODBC driver name stands for, or "odbc".
func odbcPlatform(driver string) string {
	d := strings.ToLower(driver)
	for _, p := range odbcDriverPlatforms {
		if strings.Contains(d, p.word) {
			return p.platform
		}
	}
	return "odbc"
}

// addUnknown adds part to a comma-separated Unknown list.
func addUnknown(list, part string) string {
	if list == "" {
		return part
	}
	if slices.Contains(strings.Split(list, ","), part) {
		return list
	}
	return list + "," + part
}

func dropUnknown(list, part string) string {
	if list == "" {
		return ""
	}
	parts := slices.DeleteFunc(strings.Split(list, ","), func(p string) bool { return p == part })
	return strings.Join(parts, ",")
}

func hasUnknown(list, part string) bool {
	return list != "" && slices.Contains(strings.Split(list, ","), part)
}

// complete fills what the platform and the options know about u's missing parts
// (ODBC DSN mapping, configured defaults, the platform's default schema) and
// marks the parts still missing as unknown. It returns the reasons for parts that
// are missing without a reason already given.
func (o *compiledOptions) complete(u snapshot.UpstreamTable) (snapshot.UpstreamTable, []string) {
	if o != nil {
		u = o.applyODBC(u)
		u = o.applyDefaults(u)
	}
	p, ok := platformPaths[u.Platform]
	if !ok {
		return u, nil
	}
	if u.Schema == "" && p.defaultSchema != "" && !hasUnknown(u.Unknown, "schema") {
		u.Schema = p.defaultSchema
	}
	if !slices.Contains(p.levels, "schema") && u.Schema != "" {
		// MySQL: [Schema="db", Item="t"] names the database (the navigation lists
		// the server's databases as schemas), whatever database the connector named.
		u.Database = u.Schema
		u.Unknown = dropUnknown(u.Unknown, "database")
		u.Schema = ""
	}
	var reasons []string
	for _, l := range p.levels {
		v := u.Database
		if l == "schema" {
			v = u.Schema
		}
		if v != "" {
			u.Unknown = dropUnknown(u.Unknown, l)
			continue
		}
		if !hasUnknown(u.Unknown, l) {
			u.Unknown = addUnknown(u.Unknown, l)
			reasons = append(reasons, ReasonUnknownPart+":"+l)
		}
	}
	return u, reasons
}
