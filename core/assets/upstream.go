package assets

import (
	"strings"

	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/sdk/spec"
)

// NavStep is one navigation record found in Power Query M text, such as
// [Name="ANALYTICS",Kind="Schema"].
type NavStep struct {
	Name string
	Kind string
}

// ScanNavigation finds the navigation records [Name="X",Kind="Y"] in M text, in
// order. It accepts what dagster-powerbi's pattern accepts, and also blanks around
// "=", "," and the brackets and M's "" escape inside the strings. It is a fallback
// until the real M parser resolves lineage; it knows nothing else of M.
func ScanNavigation(m string) []NavStep {
	var steps []NavStep
	for i := 0; i < len(m); i++ {
		if m[i] != '[' {
			continue
		}
		if st, ok := navRecord(m[i+1:]); ok {
			steps = append(steps, st)
		}
	}
	return steps
}

// navRecord reads `Name="X",Kind="Y"]` (with optional blanks) at the start of s.
func navRecord(s string) (NavStep, bool) {
	var st NavStep
	var ok bool
	s = skipBlanks(s)
	if s, ok = field(s, "Name", &st.Name); !ok {
		return st, false
	}
	s = skipBlanks(s)
	if !strings.HasPrefix(s, ",") {
		return st, false
	}
	s = skipBlanks(s[1:])
	if s, ok = field(s, "Kind", &st.Kind); !ok {
		return st, false
	}
	s = skipBlanks(s)
	return st, strings.HasPrefix(s, "]")
}

// field reads `name = "value"` at the start of s and returns the rest.
func field(s, name string, value *string) (string, bool) {
	if !strings.HasPrefix(s, name) {
		return s, false
	}
	s = skipBlanks(s[len(name):])
	if !strings.HasPrefix(s, "=") {
		return s, false
	}
	s = skipBlanks(s[1:])
	v, rest, ok := mString(s)
	if !ok || v == "" {
		return s, false
	}
	*value = v
	return rest, true
}

// mString reads an M text literal at the start of s: "..." with "" for a quote.
func mString(s string) (value, rest string, ok bool) {
	if !strings.HasPrefix(s, `"`) {
		return "", s, false
	}
	end := 1
	escaped := false
	for {
		i := strings.IndexByte(s[end:], '"')
		if i < 0 {
			return "", s, false
		}
		end += i
		if end+1 < len(s) && s[end+1] == '"' {
			escaped = true
			end += 2
			continue
		}
		break
	}
	value = s[1:end]
	if escaped {
		value = strings.ReplaceAll(value, `""`, `"`)
	}
	return value, s[end+1:], true
}

func skipBlanks(s string) string {
	return strings.TrimLeft(s, " \t\r\n")
}

// NavigationKey applies dagster-powerbi's rule to one M expression: when its
// navigation steps name a Schema and a Table, the key is [database, schema, table]
// lower-cased, or [schema, table] without a Database step. A later step of the same
// kind replaces an earlier one. Kind="View" counts as a table (dagster-powerbi misses
// views). It returns nil when there is no such pair.
func NavigationKey(m string) spec.Key {
	var db, schema, table string
	for _, st := range ScanNavigation(m) {
		switch st.Kind {
		case "Database":
			db = st.Name
		case "Schema":
			schema = st.Name
		case "Table", "View":
			table = st.Name
		}
	}
	if schema == "" || table == "" {
		return nil
	}
	if db == "" {
		return spec.Key{strings.ToLower(schema), strings.ToLower(table)}
	}
	return spec.Key{strings.ToLower(db), strings.ToLower(schema), strings.ToLower(table)}
}

// DefaultUpstreamKeys returns the warehouse tables a semantic model reads, as keys.
// With resolved lineage (m.Lineage) it uses those tables; otherwise it scans each
// table's M source like dagster-powerbi: the first source expression of a table that
// names a schema and a table gives that table's key. Keys are distinct, in table order.
func DefaultUpstreamKeys(m *snapshot.SemanticModel) []spec.Key {
	var keys []spec.Key
	seen := map[string]bool{}
	add := func(k spec.Key) {
		if len(k) == 0 {
			return
		}
		s := keyString(k)
		if seen[s] {
			return
		}
		seen[s] = true
		keys = append(keys, k)
	}
	if m.Lineage != nil {
		for _, tl := range m.Lineage.Tables {
			for _, up := range tl.Upstream {
				add(UpstreamTableKey(up))
			}
		}
		return keys
	}
	for _, t := range m.Tables {
		for _, src := range t.Source {
			if k := NavigationKey(src); k != nil {
				add(k)
				break
			}
		}
	}
	return keys
}

// UpstreamTableKey is the key of a resolved upstream table: its database, schema and
// table names lower-cased, leaving out the parts it lacks. It is nil without a table,
// and when the database or schema is unknown (a key without it could name another
// table).
func UpstreamTableKey(t snapshot.UpstreamTable) spec.Key {
	if t.Table == "" || t.Platform == "powerbi-dataflow" {
		// A dataflow entity links to the dataflow's asset, not to a warehouse table.
		return nil
	}
	for _, p := range strings.Split(t.Unknown, ",") {
		if p == "database" || p == "schema" {
			return nil
		}
	}
	k := make(spec.Key, 0, 4)
	if t.Platform == "fabric-onelake" && t.Server != "" {
		// OneLake: workspace id, item id, schema, table (item ids are per workspace).
		k = append(k, strings.ToLower(t.Server))
	}
	for _, p := range [...]string{t.Database, t.Schema, t.Table} {
		if p != "" {
			k = append(k, strings.ToLower(p))
		}
	}
	return k
}

// keyString renders a key as a map key that cannot collide, unlike Key.String.
func keyString(k spec.Key) string {
	return strings.Join(k, "\x00")
}
