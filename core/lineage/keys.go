package lineage

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unsafe"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/sdk/spec"
)

// Config is the `lineage:` section of pipeline.yaml.
//
//	lineage:
//	  keys:
//	    - platform: snowflake
//	      server: "xy12345\\..*"        # optional, full match, case-insensitive
//	      prefix: [snowflake, analytics]
//	    - platform: mssql
//	      database: "AdventureWorks.*"
//	      parts: [database, table]       # default: database, schema, table
//	      keep_case: true
type Config struct {
	// Keys are tried in order; the first rule that matches a table gives its key.
	Keys []KeyRule `yaml:"keys"`
	// Defaults fill the parts of a name that the M leaves out (see DefaultRule).
	Defaults []DefaultRule `yaml:"defaults"`
	// ODBC says what ODBC data source names stand for (see ODBCRule).
	ODBC []ODBCRule `yaml:"odbc"`
}

// KeyRule maps the upstream tables of one platform (and optionally server and
// database) to asset keys: Prefix followed by the table's Parts.
type KeyRule struct {
	Platform string `yaml:"platform" required:"true"`
	// Server and Database are regular expressions that must match the whole value,
	// ignoring case. Empty matches anything.
	Server   string   `yaml:"server"`
	Database string   `yaml:"database"`
	Prefix   []string `yaml:"prefix"`
	// Parts are the table's name parts after the prefix, from server, database,
	// schema, table. Empty parts are left out. Default: database, schema, table.
	Parts []string `yaml:"parts"`
	// Case is how the parts' case is normalized: "lower" (the default, as
	// dagster-powerbi and DataHub name warehouse tables), "upper" (Snowflake's and
	// Oracle's own names for unquoted identifiers) or "keep" (as the M or SQL
	// writes them).
	Case string `yaml:"case"`
	// KeepCase is the older spelling of case: keep.
	KeepCase bool `yaml:"keep_case"`
}

// KeyMapper turns upstream tables into asset keys.
type KeyMapper struct {
	rules []compiledRule
}

type compiledRule struct {
	KeyRule
	server, database *regexp.Regexp
}

var (
	defaultParts = []string{"database", "schema", "table"}
	oneLakeParts = []string{"server", "database", "schema", "table"}
)

var validParts = []string{"server", "database", "schema", "table"}

// NewKeyMapper checks cfg and returns its mapper. A zero Config gives the
// dagster-compatible default: [database, schema, table] lower-cased.
func NewKeyMapper(cfg Config) (*KeyMapper, error) {
	m := &KeyMapper{}
	for i, r := range cfg.Keys {
		c, err := compileRule(r)
		if err != nil {
			return nil, fmt.Errorf("lineage.keys[%d]: %w", i, err)
		}
		m.rules = append(m.rules, c)
	}
	return m, nil
}

// DecodeKeyMapper decodes the `lineage:` section and returns its mapper; errors
// name the file, line and column.
func DecodeKeyMapper(n config.Node) (*KeyMapper, error) {
	var cfg Config
	if err := config.Decode(n, &cfg); err != nil {
		return nil, err
	}
	m := &KeyMapper{}
	items := n.Child("keys")
	for i, r := range cfg.Keys {
		c, err := compileRule(r)
		if err != nil {
			return nil, config.Errorf(items.Item(i), "lineage key rule: %v", err)
		}
		m.rules = append(m.rules, c)
	}
	return m, nil
}

func compileRule(r KeyRule) (compiledRule, error) {
	c := compiledRule{KeyRule: r}
	if r.Platform == "" {
		return c, fmt.Errorf("platform is required")
	}
	var err error
	if r.Server != "" {
		if c.server, err = regexp.Compile(`(?i)^(?:` + r.Server + `)$`); err != nil {
			return c, fmt.Errorf("server: %w", err)
		}
	}
	if r.Database != "" {
		if c.database, err = regexp.Compile(`(?i)^(?:` + r.Database + `)$`); err != nil {
			return c, fmt.Errorf("database: %w", err)
		}
	}
	for _, p := range r.Parts {
		if !slices.Contains(validParts, p) {
			return c, fmt.Errorf("parts: unknown part %q (use server, database, schema, table)", p)
		}
	}
	for _, p := range r.Prefix {
		if p == "" {
			return c, fmt.Errorf("prefix: empty key part")
		}
	}
	switch strings.ToLower(r.Case) {
	case "", "lower", "upper", "keep":
		c.Case = strings.ToLower(r.Case)
	default:
		return c, fmt.Errorf("case: %q is not lower, upper or keep", r.Case)
	}
	if r.KeepCase {
		if c.Case != "" && c.Case != "keep" {
			return c, fmt.Errorf("keep_case: true contradicts case: %s", c.Case)
		}
		c.Case = "keep"
	}
	return c, nil
}

func (r *compiledRule) matches(u snapshot.UpstreamTable) bool {
	return strings.EqualFold(r.Platform, u.Platform) &&
		(r.server == nil || r.server.MatchString(u.Server)) &&
		(r.database == nil || r.database.MatchString(u.Database))
}

// Key returns the asset key of one upstream table, or nil when the table has no
// name or a part the key uses is unknown (a key without it could name another
// table).
func (m *KeyMapper) Key(u snapshot.UpstreamTable) spec.Key {
	if u.Table == "" || u.Platform == PlatformDataflow {
		// A dataflow entity is the dataflow's asset, linked by id, not a warehouse table.
		return nil
	}
	var prefix, parts []string
	caseRule := "lower"
	parts = defaultParts
	if u.Platform == PlatformOneLake {
		// Item ids are unique within a workspace only.
		parts = oneLakeParts
	}
	for i := range m.rules {
		if r := &m.rules[i]; r.matches(u) {
			prefix = r.Prefix
			if len(r.Parts) > 0 {
				parts = r.Parts
			}
			if r.Case != "" {
				caseRule = r.Case
			}
			break
		}
	}
	key := append(spec.Key{}, prefix...)
	for _, p := range parts {
		var v string
		switch p {
		case "server":
			v = u.Server
		case "database":
			v = u.Database
		case "schema":
			v = u.Schema
		case "table":
			v = u.Table
		}
		if hasUnknown(u.Unknown, p) {
			return nil
		}
		if v == "" {
			continue
		}
		in := v
		switch caseRule {
		case "lower":
			v = strings.ToLower(v)
		case "upper":
			v = strings.ToUpper(v)
		}
		if unsafe.StringData(v) == unsafe.StringData(in) {
			// v is still the resolver's, a part of the M text it was read from: a
			// key outlives the batch (the sync keeps every model's deps), and would
			// keep the whole text of every table with it.
			v = strings.Clone(v)
		}
		key = append(key, v)
	}
	if len(key) == 0 {
		return nil
	}
	return key
}

// Keys returns the asset keys of all upstream tables in l, each once, in the order
// the tables list them.
func (m *KeyMapper) Keys(l *snapshot.Lineage) []spec.Key {
	if l == nil {
		return nil
	}
	var out []spec.Key
	seen := map[string]bool{}
	for _, t := range l.Tables {
		for _, u := range t.Upstream {
			k := m.Key(u)
			if k == nil {
				continue
			}
			// Join with a separator that cannot appear inside a part's identity.
			id := strings.Join(k, "\x00")
			if seen[id] {
				continue
			}
			seen[id] = true
			out = append(out, k)
		}
	}
	return out
}
