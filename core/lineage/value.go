package lineage

import (
	"slices"

	"github.com/pbisync/pbisync/core/snapshot"
)

// value is what the symbolic evaluator computes for an M expression. It models the
// constants that name data (text, numbers, records, lists), functions, and data
// derived from sources; everything else is opaque or unknown.
type value any

type (
	textV    string
	numberV  float64
	logicalV bool
	nullV    struct{}
	// opaqueV is a value the evaluator does not model (a date, a type, a binary):
	// fine as data, useless as a server or table name.
	opaqueV struct{}
	// partialTextV is text with holes where values could not be worked out
	// (DateTime.ToText(RangeStart)): good enough for SQL, never for a name.
	partialTextV string
	// errV is the result of `error ...` or `...`.
	errV struct{}
	// unknownV is a value that could not be worked out, with the reason code.
	unknownV struct{ reason string }
	listV    []value
	// recordV keeps its fields in order; index is built for large records only,
	// as most are navigation keys and options of a few fields.
	recordV struct {
		fields []recordField
		index  map[string]int
	}
	funcV struct {
		params []string
		body   exprBody
		env    *env
	}
	// builtinV is a library function, by name.
	builtinV string
	// dataV is data read from sources: the warehouse tables it comes from, and the
	// reasons some of it could not be traced (files, web, dynamic names).
	dataV struct {
		up      []snapshot.UpstreamTable
		reasons []string
		cols    *colState // nil when the columns' sources are unknown
	}
	// navV is a point in a connector's navigation tree: a server, then database,
	// schema and table as the navigation steps fill them in.
	navV struct {
		conn     *connector
		server   string
		database string
		schema   string
		table    string
		// row is set between `Source{[...]}` and `[Data]`.
		row bool
		// more holds what few navigations have, so the common one stays small (a
		// navV is copied into a new value at every step). It is never changed in
		// place: setters copy it.
		more *navMore
	}
	// navMore is the rarer part of a navV.
	navMore struct {
		// platform overrides conn.platform (an ODBC driver that names one).
		platform string
		// unknown lists the parts given by values that could not be worked out
		// (an undefined parameter), reasons says why.
		unknown string
		reasons []string
	}
	// queryFnV is what Databricks.Query returns: a function from SQL to a table.
	queryFnV struct{ ctx navV }
	// choiceV is one of several sources, where an undecidable if picks one.
	choiceV []value
)

type recordField struct {
	name string
	val  value
}

// recordIndexAt is the number of fields from which a record keeps an index.
const recordIndexAt = 16

func (r *recordV) find(name string) int {
	if r.index != nil {
		if i, ok := r.index[name]; ok {
			return i
		}
		return -1
	}
	for i := range r.fields {
		if r.fields[i].name == name {
			return i
		}
	}
	return -1
}

func (r *recordV) get(name string) (value, bool) {
	if r == nil {
		return nil, false
	}
	if i := r.find(name); i >= 0 {
		return r.fields[i].val, true
	}
	return nil, false
}

// newRecord returns an empty record with room for n fields; a small one comes in one
// allocation with its fields (navigation keys, options).
func newRecord(n int) *recordV {
	if n <= 2 {
		r := &record2{}
		r.r.fields = r.room[:0]
		return &r.r
	}
	return &recordV{fields: make([]recordField, 0, n)}
}

type record2 struct {
	r    recordV
	room [2]recordField
}

func (r *recordV) set(name string, v value) {
	if i := r.find(name); i >= 0 {
		r.fields[i].val = v
		return
	}
	r.fields = append(r.fields, recordField{name: name, val: v})
	switch {
	case r.index != nil:
		r.index[name] = len(r.fields) - 1
	case len(r.fields) >= recordIndexAt:
		r.index = make(map[string]int, len(r.fields))
		for i, f := range r.fields {
			r.index[f.name] = i
		}
	}
}

func unknown(reason string) unknownV { return unknownV{reason: reason} }

// Reason codes. Reasons with a suffix carry a function or identifier name.
const (
	ReasonSyntaxError          = "syntax_error"
	ReasonDynamicValue         = "dynamic_value"
	ReasonNoSource             = "no_source"
	ReasonIncompleteNavigation = "incomplete_navigation"
	ReasonSQLNoTables          = "sql_no_tables"
	ReasonCycle                = "cycle"
	ReasonTooComplex           = "too_complex"
	ReasonError                = "error_value"
	// ReasonUnknownFunction is followed by ":" and the function name.
	ReasonUnknownFunction = "unknown_function"
	// ReasonUnknownReference is followed by ":" and the identifier.
	ReasonUnknownReference = "unknown_reference"
	// ReasonUnsupportedSource is followed by ":" and the source function, for
	// file, web and service sources that are not warehouse tables.
	ReasonUnsupportedSource = "unsupported_source"
	// ReasonUnknownPart is followed by ":" and a part (database, schema) of a
	// table's full name that neither the M nor a default gives: an unqualified
	// name in native SQL on Oracle, say, whose schema is the login's.
	ReasonUnknownPart = "unknown_part"
)

// isNonTableReason reports whether a reason marks a source that is not a warehouse
// table by nature (entered data, files, web), rather than a failure to resolve.
func isNonTableReason(r string) bool {
	return r == ReasonNoSource || r == ReasonDAXExpression || len(r) > len(ReasonUnsupportedSource) && r[:len(ReasonUnsupportedSource)+1] == ReasonUnsupportedSource+":"
}

// mergeData combines the data lineage of several values: Table.Combine, joins,
// both branches of an undecidable if.
func mergeData(vs ...value) dataV {
	var d dataV
	for _, v := range vs {
		up, reasons := tablesOf(v)
		for _, u := range up {
			if !slices.Contains(d.up, u) {
				d.up = append(d.up, u)
			}
		}
		for _, r := range reasons {
			if !slices.Contains(d.reasons, r) {
				d.reasons = append(d.reasons, r)
			}
		}
	}
	return d
}

// tablesOf returns the upstream tables of a value taken as a table query's
// result, or the reasons there are none.
func tablesOf(v value) ([]snapshot.UpstreamTable, []string) {
	switch x := v.(type) {
	case dataV:
		if len(x.up) == 0 && len(x.reasons) == 0 {
			return nil, []string{ReasonNoSource}
		}
		return x.up, x.reasons
	case navV:
		if x.table == "" {
			if rs := x.reasons(); len(rs) > 0 {
				return nil, rs
			}
			return nil, []string{ReasonIncompleteNavigation}
		}
		return []snapshot.UpstreamTable{x.upstream()}, x.reasons()
	case queryFnV:
		return nil, []string{ReasonIncompleteNavigation}
	case choiceV:
		return tablesOf(mergeData([]value(x)...))
	case unknownV:
		return nil, []string{x.reason}
	case errV:
		return nil, []string{ReasonError}
	case listV:
		d := dataV{}
		for _, item := range x {
			if hasData(item) {
				d = mergeData(d, item)
			}
		}
		if len(d.up) == 0 && len(d.reasons) == 0 {
			return nil, []string{ReasonNoSource}
		}
		return d.up, d.reasons
	case *recordV:
		var items listV
		for _, f := range x.fields {
			items = append(items, f.val)
		}
		return tablesOf(items)
	}
	return nil, []string{ReasonNoSource}
}

// hasData reports whether v carries source lineage (or a reason it lost some).
func hasData(v value) bool {
	switch x := v.(type) {
	case dataV, navV, queryFnV, unknownV, choiceV:
		return true
	case listV:
		return slices.ContainsFunc(x, hasData)
	case *recordV:
		for _, f := range x.fields {
			if hasData(f.val) {
				return true
			}
		}
	}
	return false
}

// hasSource reports whether v carries data read from a source, as opposed to an
// unknown scalar.
func hasSource(v value) bool {
	switch x := v.(type) {
	case dataV, navV, queryFnV, choiceV:
		return true
	case listV:
		return slices.ContainsFunc(x, hasSource)
	case *recordV:
		for _, f := range x.fields {
			if hasSource(f.val) {
				return true
			}
		}
	}
	return false
}

// data is the table a complete navigation reaches.
func (n navV) data() dataV {
	// The columns pass through from the table itself: one copy serves both.
	up := []snapshot.UpstreamTable{n.upstream()}
	return dataV{up: up, reasons: n.reasons(), cols: &colState{from: &up[0]}}
}

func (n navV) platformName() string {
	if n.conn.itemNav {
		return n.conn.platform
	}
	if p := n.platformOverride(); p != "" {
		return p
	}
	return n.conn.platform
}

func (n navV) upstream() snapshot.UpstreamTable {
	return snapshot.UpstreamTable{
		Platform: n.platformName(), Server: n.server, Database: n.database,
		Schema: n.schema, Table: n.table, Unknown: n.unknown(),
	}
}

// withUnknown returns n with part marked unknown for the reason of v.
func (n navV) withUnknown(part string, v value) navV {
	reason := ReasonDynamicValue
	if u, ok := v.(unknownV); ok {
		reason = u.reason
	}
	n.setUnknown(addUnknown(n.unknown(), part))
	if rs := n.reasons(); !slices.Contains(rs, reason) {
		m := n.copyMore()
		m.reasons = append(slices.Clip(rs), reason)
		n.more = m
	}
	return n
}

func (n navV) platformOverride() string {
	if n.more == nil {
		return ""
	}
	return n.more.platform
}

func (n navV) unknown() string {
	if n.more == nil {
		return ""
	}
	return n.more.unknown
}

func (n navV) reasons() []string {
	if n.more == nil {
		return nil
	}
	return n.more.reasons
}

// copyMore returns a copy of n's navMore to change and set.
func (n *navV) copyMore() *navMore {
	m := &navMore{}
	if n.more != nil {
		*m = *n.more
	}
	return m
}

func (n *navV) setPlatform(p string) {
	m := n.copyMore()
	m.platform = p
	n.more = m
}

func (n *navV) setUnknown(parts string) {
	if parts == n.unknown() {
		return
	}
	m := n.copyMore()
	m.unknown = parts
	n.more = m
}
