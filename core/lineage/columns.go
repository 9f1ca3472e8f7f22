package lineage

import (
	"maps"
	"slices"

	"github.com/pbisync/pbisync/core/lineage/sqltables"
	"github.com/pbisync/pbisync/core/snapshot"
)

// colState is what is known of a table value's columns: either an explicit list
// (a native query's select list, Table.SelectColumns) or every column of one
// upstream table passing through by name, with renames and added columns noted.
type colState struct {
	explicit []colLineage // set when the column list is known
	from     *snapshot.UpstreamTable
	renamed  map[string]string // output name -> source column (passthrough)
	added    map[string]bool   // output names with no source (passthrough)
}

type colLineage struct {
	name string
	from []snapshot.UpstreamColumn
}

func passthrough(u snapshot.UpstreamTable) *colState { return &colState{from: &u} }

func (c *colState) clone() *colState {
	n := *c
	n.explicit = slices.Clone(c.explicit)
	n.renamed = maps.Clone(c.renamed)
	n.added = maps.Clone(c.added)
	return &n
}

// source returns the upstream columns of output column name.
func (c *colState) source(name string) ([]snapshot.UpstreamColumn, bool) {
	if c.from == nil {
		for _, e := range c.explicit {
			if e.name == name {
				return e.from, true
			}
		}
		return nil, false
	}
	if c.added[name] {
		return nil, true
	}
	src := name
	if r, ok := c.renamed[name]; ok {
		src = r
	}
	return []snapshot.UpstreamColumn{{UpstreamTable: *c.from, Column: src}}, true
}

// columnPreserving are table functions whose output has the input's columns.
var columnPreserving = map[string]bool{
	"Table.SelectRows": true, "Table.Sort": true, "Table.Distinct": true, "Table.FirstN": true,
	"Table.LastN": true, "Table.Range": true, "Table.Skip": true, "Table.RemoveFirstN": true,
	"Table.RemoveLastN": true, "Table.Buffer": true, "Table.TransformColumnTypes": true,
	"Table.ReplaceValue": true, "Table.ReplaceErrorValues": true, "Table.RemoveRowsWithErrors": true,
	"Table.SelectRowsWithErrors": true, "Table.ReorderColumns": true, "Table.TransformColumns": true,
	"Table.FillDown": true, "Table.FillUp": true, "Table.RemoveMatchingRows": true,
	"Table.AlternateRows": true, "Table.StopFolding": true, "Table.AddKey": true,
	"Table.ReplaceKeys": true, "Table.RemoveColumns": true, "Table.MaxN": true, "Table.MinN": true,
}

// textList reads {"a", "b"} or "a".
func textList(v value) ([]string, bool) {
	switch x := v.(type) {
	case textV:
		return []string{string(x)}, true
	case listV:
		out := make([]string, 0, len(x))
		for _, item := range x {
			t, ok := item.(textV)
			if !ok {
				return nil, false
			}
			out = append(out, string(t))
		}
		return out, true
	}
	return nil, false
}

// columnsAfter returns the column state after table function name is applied with
// args to a table whose columns are in, or nil when they are no longer known.
func columnsAfter(name string, in *colState, args []value) *colState {
	if in == nil {
		return nil
	}
	switch {
	case name == "Table.RemoveColumns" && in.from == nil:
		drop, ok := textList(arg(args, 1))
		if !ok {
			return nil
		}
		out := in.clone()
		out.explicit = slices.DeleteFunc(out.explicit, func(c colLineage) bool { return slices.Contains(drop, c.name) })
		return out
	case columnPreserving[name]:
		return in
	case name == "Table.SelectColumns":
		keep, ok := textList(arg(args, 1))
		if !ok {
			return nil
		}
		out := &colState{}
		for _, k := range keep {
			src, _ := in.source(k)
			out.explicit = append(out.explicit, colLineage{name: k, from: src})
		}
		return out
	case name == "Table.RenameColumns":
		pairs := renamePairs(arg(args, 1))
		if pairs == nil {
			return nil
		}
		out := in.clone()
		for _, p := range pairs {
			if out.from == nil {
				for i := range out.explicit {
					if out.explicit[i].name == p[0] {
						out.explicit[i].name = p[1]
					}
				}
				continue
			}
			if out.renamed == nil {
				out.renamed = map[string]string{}
			}
			src := p[0]
			if r, ok := in.renamed[p[0]]; ok {
				src = r
			}
			out.renamed[p[1]] = src
			if in.added[p[0]] {
				if out.added == nil {
					out.added = map[string]bool{}
				}
				out.added[p[1]] = true
			}
		}
		return out
	case name == "Table.AddColumn" || name == "Table.AddIndexColumn" || name == "Table.DuplicateColumn":
		newName, ok := arg(args, 1).(textV)
		var src []snapshot.UpstreamColumn
		if name == "Table.DuplicateColumn" {
			old, ok1 := arg(args, 1).(textV)
			newName, ok = arg(args, 2).(textV)
			if !ok1 {
				return nil
			}
			src, _ = in.source(string(old))
		}
		if !ok {
			return nil
		}
		out := in.clone()
		if out.from == nil {
			out.explicit = append(out.explicit, colLineage{name: string(newName), from: src})
			return out
		}
		if src != nil {
			if out.renamed == nil {
				out.renamed = map[string]string{}
			}
			out.renamed[string(newName)] = src[0].Column
			return out
		}
		if out.added == nil {
			out.added = map[string]bool{}
		}
		out.added[string(newName)] = true
		return out
	}
	return nil
}

func arg(args []value, i int) value {
	if i < len(args) {
		return args[i]
	}
	return nil
}

// renamePairs reads {{"old", "new"}, ...} or {"old", "new"}.
func renamePairs(v value) [][2]string {
	l, ok := v.(listV)
	if !ok {
		return nil
	}
	if flat, ok := textList(l); ok && len(flat) == 2 {
		return [][2]string{{flat[0], flat[1]}}
	}
	var out [][2]string
	for _, item := range l {
		p, ok := textList(item)
		if !ok || len(p) != 2 {
			return nil
		}
		out = append(out, [2]string{p[0], p[1]})
	}
	return out
}

// sqlColumns is the column state of a native query's result.
func sqlColumns(sql string, d sqltables.Dialect, toUpstream func(sqltables.Table) (snapshot.UpstreamTable, bool)) *colState {
	cols, ok := sqltables.ColumnsDialect(sql, d)
	if !ok {
		return nil
	}
	out := &colState{}
	for _, c := range cols {
		cl := colLineage{name: c.Name}
		for _, s := range c.Sources {
			u, ok := toUpstream(s.Table)
			if !ok {
				continue
			}
			uc := snapshot.UpstreamColumn{UpstreamTable: u, Column: s.Column}
			if !slices.Contains(cl.from, uc) {
				cl.from = append(cl.from, uc)
			}
		}
		out.explicit = append(out.explicit, cl)
	}
	return out
}

// colsOf returns the column state of a table query's result.
func colsOf(v value) *colState {
	switch x := v.(type) {
	case dataV:
		return x.cols
	case navV:
		if x.table != "" {
			return passthrough(x.upstream())
		}
	}
	return nil
}

// columnLineage lists the lineage of the model table's data columns; without
// model columns, the explicit column list.
func columnLineage(c *colState, cols []snapshot.Column) []snapshot.ColumnLineage {
	if c == nil {
		return nil
	}
	if len(cols) == 0 {
		if len(c.explicit) == 0 {
			return nil
		}
		out := make([]snapshot.ColumnLineage, len(c.explicit))
		for i, e := range c.explicit {
			out[i] = snapshot.ColumnLineage{Column: e.name, Upstream: e.from}
		}
		return out
	}
	n := 0
	for i := range cols {
		if isDataColumn(&cols[i]) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]snapshot.ColumnLineage, 0, n)
	if c.from == nil {
		for i := range cols {
			col := &cols[i]
			if !isDataColumn(col) {
				continue
			}
			if src, ok := c.source(col.Name); ok {
				out = append(out, snapshot.ColumnLineage{Column: col.Name, Upstream: src})
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	// Every column passes through from one table: one array holds all their
	// upstream columns, each column's slice capped at its own element.
	ups := make([]snapshot.UpstreamColumn, 0, n)
	for i := range cols {
		col := &cols[i]
		if !isDataColumn(col) {
			continue
		}
		if c.added[col.Name] {
			out = append(out, snapshot.ColumnLineage{Column: col.Name})
			continue
		}
		src := col.Name
		if r, ok := c.renamed[col.Name]; ok {
			src = r
		}
		ups = append(ups, snapshot.UpstreamColumn{UpstreamTable: *c.from, Column: src})
		k := len(ups) - 1
		out = append(out, snapshot.ColumnLineage{Column: col.Name, Upstream: ups[k : k+1 : k+1]})
	}
	return out
}

func isDataColumn(col *snapshot.Column) bool { return col.ColumnType == "" || col.ColumnType == "Data" }
