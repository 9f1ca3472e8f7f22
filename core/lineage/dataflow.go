package lineage

import (
	"slices"

	"github.com/pbisync/pbisync/core/snapshot"
)

// ResolveDataflow resolves the entities of a dataflow or datamart from its M
// document (a section document, one shared member per entity), like a model's
// tables. A dataflow without a document has no lineage (nil).
func (r *Resolver) ResolveDataflow(d *snapshot.Dataflow) (*snapshot.Lineage, Stats) {
	return r.resolveDataflow(d, nil)
}

// resolveDataflow is ResolveDataflow with parses shared through cache (nil for none).
func (r *Resolver) resolveDataflow(d *snapshot.Dataflow, cache *parseCache) (*snapshot.Lineage, Stats) {
	var stats Stats
	if d.Document == "" {
		return nil, stats
	}
	doc, err := cache.parse(d.Document)
	out := &snapshot.Lineage{}
	if err != nil || doc.Section == nil {
		tl := snapshot.TableLineage{Table: d.Name, Unresolved: []string{ReasonSyntaxError}}
		stats.count(tl)
		out.Tables = append(out.Tables, tl)
		return out, stats
	}
	mr := &modelResolver{global: &env{vars: map[string]*thunk{}}, opts: r.opts, cache: cache}
	var names []string
	for _, mem := range doc.Section.Members {
		if _, dup := mr.global.vars[mem.Name]; dup {
			continue
		}
		mr.global.vars[mem.Name] = &thunk{expr: mem.Value, env: mr.global}
		if mem.Shared {
			names = append(names, mem.Name)
		}
	}
	for _, name := range names {
		ev := &evaluator{}
		v := ev.force(mr.global.vars[name])
		tl := mr.lineageOf(name, []value{v}, nil)
		stats.count(tl)
		out.Tables = append(out.Tables, tl)
	}
	return out, stats
}

// lineageOf turns the values of a table's sources into its lineage.
func (r *modelResolver) lineageOf(name string, vals []value, columns []snapshot.Column) snapshot.TableLineage {
	tl := snapshot.TableLineage{Table: name}
	var up []snapshot.UpstreamTable
	var reasons []string
	for _, v := range vals {
		u, rs := tablesOf(v)
		for _, x := range u {
			x, more := r.opts.complete(x)
			rs = append(rs, more...)
			if !slices.Contains(up, x) {
				up = append(up, x)
			}
		}
		for _, x := range rs {
			if !slices.Contains(reasons, x) {
				reasons = append(reasons, x)
			}
		}
	}
	// no_source next to real upstream tables says nothing.
	if len(up) > 0 {
		reasons = slices.DeleteFunc(reasons, func(s string) bool { return s == ReasonNoSource })
	}
	tl.Upstream, tl.Unresolved = up, reasons
	if len(vals) == 1 {
		tl.Columns = columnLineage(colsOf(vals[0]), columns)
		// Columns mostly share their table: complete each distinct one once.
		var last, lastDone snapshot.UpstreamTable
		done := false
		for i := range tl.Columns {
			for j := range tl.Columns[i].Upstream {
				c := &tl.Columns[i].Upstream[j]
				if done && c.UpstreamTable == last {
					c.UpstreamTable = lastDone
					continue
				}
				last = c.UpstreamTable
				c.UpstreamTable, _ = r.opts.complete(c.UpstreamTable)
				lastDone, done = c.UpstreamTable, true
			}
		}
	}
	return tl
}

// entityValue is the value of a Direct Lake table: the entity of the shared
// expression its partition names (a Lakehouse or Warehouse, through
// Sql.Database on its SQL endpoint or a OneLake path).
func (r *modelResolver) entityValue(e *snapshot.EntitySource) value {
	th, ok := r.global.vars[e.ExpressionSource]
	if !ok {
		return unknown(ReasonUnknownReference + ":" + e.ExpressionSource)
	}
	ev := &evaluator{}
	v := ev.force(th)
	n, ok := v.(navV)
	if !ok {
		if _, isData := v.(dataV); isData {
			return v
		}
		return unknown(ReasonDynamicValue)
	}
	if n.table != "" {
		return n
	}
	if e.SchemaName != "" {
		n.schema = e.SchemaName
	}
	n.table = e.EntityName
	n.row = false
	if n.platformName() == "mssql" {
		// Direct Lake reads a Fabric item even when the host is not recognised.
		n.setPlatform(PlatformOneLake)
	}
	return n
}
