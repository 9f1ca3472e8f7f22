// Package lineage finds the warehouse tables a semantic model's tables read, by
// parsing their Power Query M (package mquery) and evaluating its data-access part
// symbolically: let bindings, shared expressions and parameters, custom functions,
// navigation steps, native SQL (package sqltables). KeyMapper turns the tables into
// asset keys.
package lineage

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/pbisync/pbisync/core/snapshot"
)

// Stats counts what Resolve found, for the engine's sync summary.
type Stats struct {
	// Tables is the number of tables with an M source.
	Tables int `json:"tables"`
	// Resolved tables have upstream tables and nothing left unexplained.
	Resolved int `json:"resolved"`
	// Partial tables have upstream tables and some reasons besides.
	Partial int `json:"partial"`
	// NonTable tables read no warehouse table by nature: entered data, files, web.
	NonTable int `json:"nonTable"`
	// Unresolved tables have no upstream tables because resolution failed.
	Unresolved int `json:"unresolved"`
	// Upstream counts table-to-upstream links.
	Upstream int `json:"upstream"`
	// Reasons counts tables by reason code.
	Reasons map[string]int `json:"reasons,omitempty"`
}

// Add adds o's counts to s.
func (s *Stats) Add(o Stats) {
	s.Tables += o.Tables
	s.Resolved += o.Resolved
	s.Partial += o.Partial
	s.NonTable += o.NonTable
	s.Unresolved += o.Unresolved
	s.Upstream += o.Upstream
	for k, v := range o.Reasons {
		if s.Reasons == nil {
			s.Reasons = map[string]int{}
		}
		s.Reasons[k] += v
	}
}

// ResolveRate is the share of tables that could be resolved (fully or in part)
// among those that read, or should read, a warehouse: non-table sources don't count.
func (s Stats) ResolveRate() float64 {
	n := s.Tables - s.NonTable
	if n == 0 {
		return 1
	}
	return float64(s.Resolved+s.Partial) / float64(n)
}

func (s *Stats) count(tl snapshot.TableLineage) {
	s.Tables++
	s.Upstream += len(tl.Upstream)
	nonTable := !slices.ContainsFunc(tl.Unresolved, func(r string) bool { return !isNonTableReason(r) })
	switch {
	case len(tl.Upstream) > 0 && len(tl.Unresolved) == 0:
		s.Resolved++
	case len(tl.Upstream) > 0:
		s.Partial++
	case nonTable:
		s.NonTable++
	default:
		s.Unresolved++
	}
	for _, r := range tl.Unresolved {
		if s.Reasons == nil {
			s.Reasons = map[string]int{}
		}
		s.Reasons[r]++
	}
}

// Resolve returns the lineage of every table of m that has an M source, and counts.
// Tables reference the model's shared expressions and parameters, and each other,
// by name. Resolve never fails: what it cannot follow is a reason in the result.
func Resolve(m *snapshot.SemanticModel) (*snapshot.Lineage, Stats) {
	var zero Resolver
	return zero.Resolve(m)
}

// Resolve is the package-level Resolve with r's options.
func (r *Resolver) Resolve(m *snapshot.SemanticModel) (*snapshot.Lineage, Stats) {
	return r.resolve(m, nil)
}

// resolve is Resolve with parses shared through cache (nil for none).
func (r *Resolver) resolve(m *snapshot.SemanticModel, cache *parseCache) (*snapshot.Lineage, Stats) {
	mr := newModelResolver(m, cache)
	mr.opts = r.opts
	out := &snapshot.Lineage{}
	n := 0
	for i := range m.Tables {
		if t := &m.Tables[i]; len(t.Source) > 0 || t.Entity != nil {
			n++
		}
	}
	if n > 0 {
		out.Tables = make([]snapshot.TableLineage, 0, n)
	}
	var stats Stats
	for i := range m.Tables {
		t := &m.Tables[i]
		if len(t.Source) == 0 && t.Entity == nil {
			continue
		}
		tl := mr.table(t)
		stats.count(tl)
		out.Tables = append(out.Tables, tl)
	}
	return out, stats
}

// ResolveSnapshot resolves every semantic model of s in place, setting its
// Lineage, and returns the counts over all of them.
func ResolveSnapshot(s *snapshot.Snapshot) Stats {
	var zero Resolver
	return zero.ResolveSnapshot(s)
}

// ResolveSnapshot is the package-level ResolveSnapshot with r's options.
// Models share the parses of M texts they have in common (see parseCache).
func (r *Resolver) ResolveSnapshot(s *snapshot.Snapshot) Stats {
	return r.resolveSnapshot(s, newParseCache())
}

func (r *Resolver) resolveSnapshot(s *snapshot.Snapshot, cache *parseCache) Stats {
	var total Stats
	for wi := range s.Workspaces {
		ws := &s.Workspaces[wi]
		for mi := range ws.SemanticModels {
			m := &ws.SemanticModels[mi]
			l, st := r.resolve(m, cache)
			if len(l.Tables) > 0 {
				m.Lineage = l
			}
			total.Add(st)
		}
		for di := range ws.Dataflows {
			d := &ws.Dataflows[di]
			if l, st := r.resolveDataflow(d, cache); l != nil {
				d.Lineage = l
				total.Add(st)
			}
		}
	}
	linkFabricItems(s)
	return total
}

// ResolveExpression resolves one M expression against the shared expressions of a
// model, as if it were a table's source.
func ResolveExpression(expr string, shared []snapshot.Expression) snapshot.TableLineage {
	m := &snapshot.SemanticModel{Expressions: shared}
	r := newModelResolver(m, nil)
	return r.table(&snapshot.Table{Name: "", Source: []string{expr}})
}

type modelResolver struct {
	global *env
	opts   *compiledOptions
	cache  *parseCache
}

func newModelResolver(m *snapshot.SemanticModel, cache *parseCache) *modelResolver {
	g := &env{vars: map[string]*thunk{}}
	add := func(name, src string) {
		if _, dup := g.vars[name]; dup {
			return
		}
		g.vars[name] = parsedThunk(cache, src, g)
	}
	for _, e := range m.Expressions {
		add(e.Name, e.Expression)
		if strings.Contains(e.Expression, "IsParameterQuery") {
			if g.params == nil {
				g.params = map[string]*thunk{}
			}
			k := strings.ToLower(e.Name)
			if _, dup := g.params[k]; dup {
				g.params[k] = nil // ambiguous
			} else {
				g.params[k] = g.vars[e.Name]
			}
		}
	}
	defined := func(name string) bool {
		for _, e := range m.Expressions {
			if e.Name == name {
				return true
			}
		}
		return false
	}
	for i := range m.Tables {
		t := &m.Tables[i]
		if len(t.Source) == 0 {
			continue
		}
		if looksLikeDAX(t.Source[0], defined) {
			if _, dup := g.vars[t.Name]; !dup {
				g.vars[t.Name] = &thunk{val: dataV{reasons: []string{ReasonDAXExpression}}, state: 2, fixed: true}
			}
			continue
		}
		add(t.Name, t.Source[0])
	}
	return &modelResolver{global: g, cache: cache}
}

// parsedThunk parses src lazily into a thunk; a section document contributes its
// members to env as well.
func parsedThunk(cache *parseCache, src string, g *env) *thunk {
	doc, err := cache.parse(src)
	if err != nil {
		return &thunk{val: unknown(ReasonSyntaxError), state: 2, fixed: true}
	}
	if doc.Section != nil {
		var last *thunk
		for _, mem := range doc.Section.Members {
			t := &thunk{expr: mem.Value, env: g}
			if _, dup := g.vars[mem.Name]; !dup {
				g.vars[mem.Name] = t
			}
			last = t
		}
		if last == nil {
			return &thunk{val: unknown(ReasonNoSource), state: 2, fixed: true}
		}
		return last
	}
	return &thunk{expr: doc.Expr, env: g}
}

func (r *modelResolver) table(t *snapshot.Table) snapshot.TableLineage {
	var vals []value
	if t.Entity != nil && len(t.Source) == 0 {
		vals = append(vals, r.entityValue(t.Entity))
	}
	for i, src := range t.Source {
		var th *thunk
		if i == 0 && t.Name != "" {
			if g, ok := r.global.vars[t.Name]; ok && g.expr != nil || ok && g.fixed {
				th = g
			}
		}
		if th == nil {
			th = parsedThunk(r.cache, src, r.global)
		}
		ev := &evaluator{}
		v := ev.force(th)
		vals = append(vals, v)
	}
	return r.lineageOf(t.Name, vals, t.Columns)
}

// ReasonCounts returns the reason codes of s sorted by count, then name.
func (s Stats) ReasonCounts() []string {
	keys := slices.Collect(maps.Keys(s.Reasons))
	slices.SortFunc(keys, func(a, b string) int {
		if d := s.Reasons[b] - s.Reasons[a]; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	return keys
}

// LogValue reports the counts as a structured log group, reasons ordered by count.
func (s Stats) LogValue() slog.Value {
	reasons := make([]string, 0, len(s.Reasons))
	for _, r := range s.ReasonCounts() {
		reasons = append(reasons, fmt.Sprintf("%s=%d", r, s.Reasons[r]))
	}
	return slog.GroupValue(
		slog.Int("tables", s.Tables), slog.Int("resolved", s.Resolved), slog.Int("partial", s.Partial),
		slog.Int("non_table", s.NonTable), slog.Int("unresolved", s.Unresolved),
		slog.Int("upstream", s.Upstream), slog.String("resolve_rate", fmt.Sprintf("%.1f%%", 100*s.ResolveRate())),
		slog.String("reasons", strings.Join(reasons, " ")),
	)
}
