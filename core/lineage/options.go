package lineage

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/snapshot"
)

// DefaultRule fills the parts of a table's name that the M leaves out, for the
// tables of one platform (optionally one server and database):
//
//	lineage:
//	  defaults:
//	    - platform: mssql
//	      server: "legacy-sql\\..*"
//	      default_schema: app         # instead of dbo
//	    - platform: oracle
//	      server: PRODDB               # a TNS alias
//	      default_database: ORCLPDB1
//	      default_schema: SALES
type DefaultRule struct {
	Platform string `yaml:"platform" required:"true"`
	// Server and Database are regular expressions that must match the whole value,
	// ignoring case. Empty matches anything.
	Server   string `yaml:"server"`
	Database string `yaml:"database"`
	// DefaultDatabase fills a missing or unknown database.
	DefaultDatabase string `yaml:"default_database"`
	// DefaultSchema fills a missing schema (an unqualified name in native SQL, a
	// navigation without a schema step), before the platform's own default.
	DefaultSchema string `yaml:"default_schema"`
}

// ODBCRule says what an ODBC data source name stands for:
//
//	lineage:
//	  odbc:
//	    - dsn: "Snowflake_Prod.*"
//	      platform: snowflake
//	      server: xy12345.snowflakecomputing.com
//	      database: ANALYTICS
//	      schema: PUBLIC
type ODBCRule struct {
	// DSN is a regular expression matching the whole DSN (or the server of a
	// DSN-less connection string), ignoring case.
	DSN      string `yaml:"dsn" required:"true"`
	Platform string `yaml:"platform" required:"true"`
	// Server replaces the DSN as the table's server; empty keeps the DSN.
	Server string `yaml:"server"`
	// Database and Schema fill a missing database and schema.
	Database string `yaml:"database"`
	Schema   string `yaml:"schema"`
}

// Options are the resolver's settings from the `lineage:` section.
type Options struct {
	Defaults []DefaultRule
	ODBC     []ODBCRule
}

type compiledDefault struct {
	DefaultRule
	server, database *regexp.Regexp
}

type compiledODBC struct {
	ODBCRule
	dsn *regexp.Regexp
}

type compiledOptions struct {
	defaults []compiledDefault
	odbc     []compiledODBC
}

// Resolver resolves models' lineage with Options. The zero Resolver uses the
// platforms' own defaults only, as the package-level Resolve does.
type Resolver struct {
	opts *compiledOptions
}

func fullMatch(field, expr string) (*regexp.Regexp, error) {
	if expr == "" {
		return nil, nil
	}
	re, err := regexp.Compile(`(?i)^(?:` + expr + `)$`)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return re, nil
}

// NewResolver checks o and returns its resolver.
func NewResolver(o Options) (*Resolver, error) {
	c := &compiledOptions{}
	for i, d := range o.Defaults {
		cd, err := compileDefault(d)
		if err != nil {
			return nil, fmt.Errorf("lineage.defaults[%d]: %w", i, err)
		}
		c.defaults = append(c.defaults, cd)
	}
	for i, r := range o.ODBC {
		co, err := compileODBC(r)
		if err != nil {
			return nil, fmt.Errorf("lineage.odbc[%d]: %w", i, err)
		}
		c.odbc = append(c.odbc, co)
	}
	return &Resolver{opts: c}, nil
}

// DecodeResolver decodes the `lineage:` section and returns its resolver; errors
// name the file, line and column.
func DecodeResolver(n config.Node) (*Resolver, error) {
	var cfg Config
	if err := config.Decode(n, &cfg); err != nil {
		return nil, err
	}
	c := &compiledOptions{}
	for i, d := range cfg.Defaults {
		cd, err := compileDefault(d)
		if err != nil {
			return nil, config.Errorf(n.Child("defaults").Item(i), "lineage default rule: %v", err)
		}
		c.defaults = append(c.defaults, cd)
	}
	for i, r := range cfg.ODBC {
		co, err := compileODBC(r)
		if err != nil {
			return nil, config.Errorf(n.Child("odbc").Item(i), "lineage odbc rule: %v", err)
		}
		c.odbc = append(c.odbc, co)
	}
	return &Resolver{opts: c}, nil
}

func compileDefault(d DefaultRule) (compiledDefault, error) {
	c := compiledDefault{DefaultRule: d}
	if d.Platform == "" {
		return c, fmt.Errorf("platform is required")
	}
	if d.DefaultDatabase == "" && d.DefaultSchema == "" {
		return c, fmt.Errorf("set default_database or default_schema")
	}
	var err error
	if c.server, err = fullMatch("server", d.Server); err != nil {
		return c, err
	}
	if c.database, err = fullMatch("database", d.Database); err != nil {
		return c, err
	}
	return c, nil
}

func compileODBC(r ODBCRule) (compiledODBC, error) {
	c := compiledODBC{ODBCRule: r}
	if r.DSN == "" || r.Platform == "" {
		return c, fmt.Errorf("dsn and platform are required")
	}
	var err error
	c.dsn, err = fullMatch("dsn", r.DSN)
	return c, err
}

func (o *compiledOptions) applyODBC(u snapshot.UpstreamTable) snapshot.UpstreamTable {
	if u.Platform != "odbc" {
		return u
	}
	for _, r := range o.odbc {
		if !r.dsn.MatchString(u.Server) {
			continue
		}
		u.Platform = strings.ToLower(r.Platform)
		if r.Server != "" {
			u.Server = r.Server
		}
		if u.Database == "" && r.Database != "" {
			u.Database = r.Database
			u.Unknown = dropUnknown(u.Unknown, "database")
		}
		if u.Schema == "" && r.Schema != "" {
			u.Schema = r.Schema
		}
		return u
	}
	return u
}

func (o *compiledOptions) applyDefaults(u snapshot.UpstreamTable) snapshot.UpstreamTable {
	for _, r := range o.defaults {
		if !strings.EqualFold(r.Platform, u.Platform) ||
			r.server != nil && !r.server.MatchString(u.Server) ||
			r.database != nil && !r.database.MatchString(u.Database) {
			continue
		}
		if u.Database == "" && r.DefaultDatabase != "" {
			u.Database = r.DefaultDatabase
			u.Unknown = dropUnknown(u.Unknown, "database")
		}
		if u.Schema == "" && r.DefaultSchema != "" {
			u.Schema = r.DefaultSchema
			u.Unknown = dropUnknown(u.Unknown, "schema")
		}
		return u
	}
	return u
}
