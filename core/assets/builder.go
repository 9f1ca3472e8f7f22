// Package assets builds pbisync's default asset specs from snapshots, following
// dagster-powerbi's conventions (keys, deps, metadata, tags, kinds, owners) without
// its defects: dependencies across workspaces and batches resolve, data sources
// without connection details get a key, and only real file suffixes are cut from
// dashboard names.
//
// A tenant arrives as a stream of snapshot batches. A Builder keeps only a small
// index of keys by id across batches; an asset whose dependency was not seen yet is
// held until it appears or Flush ends the stream.
package assets

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"

	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/sdk/spec"
)

// DefaultPortalURL is the Power BI portal that web_url fallbacks point at.
const DefaultPortalURL = "https://app.powerbi.com"

// Options configure a Builder. The zero value gives dagster-powerbi's defaults.
type Options struct {
	// UpstreamKeys returns the warehouse tables a semantic model reads, as dep keys.
	// Nil means DefaultUpstreamKeys.
	UpstreamKeys func(m *snapshot.SemanticModel) []spec.Key
	// LineageKeys returns the warehouse tables a dataflow's resolved lineage reads.
	// Nil means DefaultLineageKeys.
	LineageKeys func(l *snapshot.Lineage) []spec.Key
	// PortalURL is the portal used for web_url when the API gave no webUrl
	// (sovereign clouds use another host). Empty means DefaultPortalURL.
	PortalURL string
}

// Builder turns snapshot batches into records. It is not safe for concurrent use.
type Builder struct {
	portal   string
	upstream func(m *snapshot.SemanticModel) []spec.Key

	entries     *entryStore
	dataSources entries
	models      entries
	reports     entries
	dashboards  map[string]bool // id -> built
	items       itemIndex       // dataflows, datamarts, Fabric items
	lineageKeys func(l *snapshot.Lineage) []spec.Key

	pending []*pending
	waiting map[target][]*pending
	seq     int
	// known are assets outside the stream (known.go), the fallback of lookup.
	known map[target]spec.Key
	// lower holds the lower-case forms of column names made so far (lowerName).
	lower map[string]string
}

type target struct {
	kind refKind
	id   string
}

// pending is an asset held until the assets it depends on are seen.
type pending struct {
	built
	missing int
	seq     int
	done    bool
}

// NewBuilder returns a Builder with the given options.
func NewBuilder(opts Options) *Builder {
	b := &Builder{
		portal:     strings.TrimRight(opts.PortalURL, "/"),
		upstream:   opts.UpstreamKeys,
		dashboards: map[string]bool{},
		waiting:    map[target][]*pending{},
	}
	b.entries = &entryStore{seed: maphash.MakeSeed()}
	b.dataSources, b.models, b.reports = newEntries(b.entries), newEntries(b.entries), newEntries(b.entries)
	if b.portal == "" {
		b.portal = DefaultPortalURL
	}
	if b.upstream == nil {
		b.upstream = DefaultUpstreamKeys
	}
	b.lineageKeys = opts.LineageKeys
	if b.lineageKeys == nil {
		b.lineageKeys = DefaultLineageKeys
	}
	return b
}

// Add builds the specs of one batch. It returns the records ready now: those of the
// batch whose dependencies are all known, then held records of earlier batches that
// this batch completed. An item seen in an earlier batch (same type and id) is not
// built again. Problems concern single assets; the rest of the batch is unaffected.
func (b *Builder) Add(snap *snapshot.Snapshot) ([]record.Record, []record.Problem) {
	if snap == nil {
		return nil, nil
	}
	users := b.dataSourceUsers(snap)
	var released []*pending
	b.index(snap, &released)

	n := len(snap.DataSources)
	for _, ws := range snap.Workspaces {
		n += len(ws.SemanticModels) + len(ws.Reports) + len(ws.Dashboards)
	}
	out := make([]record.Record, 0, n)
	var problems []record.Problem
	emit := func(bt built, ps []record.Problem) {
		problems = append(problems, ps...)
		if r, ok := b.resolveOrHold(bt); ok {
			out = append(out, r)
		}
	}

	for i := range snap.DataSources {
		ds := &snap.DataSources[i]
		if ds.ID == "" {
			name, _ := DataSourceName(ds)
			problems = append(problems, record.Problem{Stage: "build",
				Asset: spec.Identity{Type: spec.DataSource, Name: name},
				Err:   fmt.Errorf("data source %d of the batch has no datasourceId; skipped", i)})
			continue
		}
		e := b.dataSources.get(ds.ID)
		if e.built() {
			continue
		}
		e.setBuilt()
		emit(b.dataSourceSpec(users[ds.ID], ds, e.key()))
	}
	b.addItems(snap, emit, &problems)
	for wi := range snap.Workspaces {
		ws := &snap.Workspaces[wi]
		for i := range ws.SemanticModels {
			sm := &ws.SemanticModels[i]
			if e := b.models.get(sm.ID); e.found() && !e.built() {
				e.setBuilt()
				emit(b.modelSpec(ws, sm))
			} else if sm.ID == "" {
				problems = append(problems, missingID(spec.SemanticModel, sm.Name, ws))
			}
		}
	}
	for wi := range snap.Workspaces {
		ws := &snap.Workspaces[wi]
		for i := range ws.Reports {
			r := &ws.Reports[i]
			if e := b.reports.get(r.ID); e.found() && !e.built() {
				e.setBuilt()
				emit(b.reportSpec(ws, r))
			} else if r.ID == "" {
				problems = append(problems, missingID(spec.Report, r.Name, ws))
			}
		}
	}
	for wi := range snap.Workspaces {
		ws := &snap.Workspaces[wi]
		for i := range ws.Dashboards {
			d := &ws.Dashboards[i]
			if d.ID == "" {
				problems = append(problems, missingID(spec.Dashboard, d.DisplayName, ws))
				continue
			}
			if b.dashboards[d.ID] {
				continue
			}
			b.dashboards[d.ID] = true
			emit(b.dashboardSpec(ws, d))
		}
	}

	slices.SortFunc(released, func(x, y *pending) int { return x.seq - y.seq })
	for _, p := range released {
		r, _ := b.finish(p.built, false)
		out = append(out, r)
	}
	b.compact()
	return out, problems
}

// Flush ends the stream: it returns every held record, each with the dependencies
// that were found, and a problem for each dependency that never appeared.
func (b *Builder) Flush() ([]record.Record, []record.Problem) {
	var out []record.Record
	var problems []record.Problem
	for _, p := range b.pending {
		if p.done {
			continue
		}
		p.done = true
		r, ps := b.finish(p.built, true)
		out = append(out, r)
		problems = append(problems, ps...)
	}
	b.pending = nil
	b.waiting = map[target][]*pending{}
	return out, problems
}

// Pending returns how many records are held, waiting for a dependency.
func (b *Builder) Pending() int {
	n := 0
	for _, p := range b.pending {
		if !p.done {
			n++
		}
	}
	return n
}

func missingID(t spec.ContentType, name string, ws *snapshot.Workspace) record.Problem {
	return record.Problem{Stage: "build",
		Asset: spec.Identity{Type: t, Name: name, WorkspaceID: ws.ID, WorkspaceName: ws.Name},
		Err:   fmt.Errorf("%s has no id; skipped", t)}
}

// index records the keys of the batch's new data sources, models and reports, and
// collects held records that no longer miss anything.
func (b *Builder) index(snap *snapshot.Snapshot, released *[]*pending) {
	for i := range snap.DataSources {
		ds := &snap.DataSources[i]
		if ds.ID == "" || b.dataSources.get(ds.ID).found() {
			continue
		}
		key := DataSourceKey(ds)
		b.dataSources.add(ds.ID, key)
		b.seen(target{refDataSource, ds.ID}, released)
	}
	for wi := range snap.Workspaces {
		ws := &snap.Workspaces[wi]
		for i := range ws.SemanticModels {
			sm := &ws.SemanticModels[i]
			if sm.ID == "" || b.models.get(sm.ID).found() {
				continue
			}
			k, _ := nameKey("semantic_model", sm.Name, sm.ID, spec.Identity{})
			b.models.add(sm.ID, k)
			b.seen(target{refModel, sm.ID}, released)
		}
		for i := range ws.Reports {
			r := &ws.Reports[i]
			if r.ID == "" || b.reports.get(r.ID).found() {
				continue
			}
			k, _ := nameKey("report", r.Name, r.ID, spec.Identity{})
			b.reports.add(r.ID, k)
			b.seen(target{refReport, r.ID}, released)
		}
	}
	b.indexItems(snap, released)
}

// seen tells the records waiting for t that it arrived.
func (b *Builder) seen(t target, released *[]*pending) {
	ws, ok := b.waiting[t]
	if !ok {
		return
	}
	delete(b.waiting, t)
	for _, p := range ws {
		p.missing--
		if p.missing == 0 && !p.done {
			p.done = true
			*released = append(*released, p)
		}
	}
}

// lookup returns the key a ref points at, if known yet.
func (b *Builder) lookup(r ref) (spec.Key, bool) {
	var e entry
	switch r.kind {
	case refFixed:
		return r.key, true
	case refDataSource:
		e = b.dataSources.get(r.id)
	case refModel:
		e = b.models.get(r.id)
	case refReport:
		e = b.reports.get(r.id)
	case refDataflow, refFabricItem:
		e = b.items.lookup(b.entries, r)
	}
	if !e.found() {
		k, ok := b.known[target{r.kind, r.id}]
		return k, ok
	}
	return e.key(), true
}

// resolveOrHold returns the finished record when every dependency is known, or holds
// it until they are.
func (b *Builder) resolveOrHold(bt built) (record.Record, bool) {
	var missing []target
	for _, r := range bt.refs {
		if _, ok := b.lookup(r); !ok {
			t := target{r.kind, r.id}
			if !slices.Contains(missing, t) {
				missing = append(missing, t)
			}
		}
	}
	if len(missing) == 0 {
		r, _ := b.finish(bt, false)
		return r, true
	}
	b.seq++
	// A held asset may wait for a later batch. Its raw properties are a slice of its
	// batch's scan document, which they would keep whole (tens of megabytes) while it
	// waits: it keeps a copy of its own instead.
	bt.rec.Raw = bytes.Clone(bt.rec.Raw)
	p := &pending{built: bt, missing: len(missing), seq: b.seq}
	b.pending = append(b.pending, p)
	for _, t := range missing {
		b.waiting[t] = append(b.waiting[t], p)
	}
	return record.Record{}, false
}

// finish sets the record's deps from its refs, distinct and in order. At the end
// of the stream a ref that never resolved is left out with a problem.
func (b *Builder) finish(bt built, final bool) (record.Record, []record.Problem) {
	var problems []record.Problem
	rec := bt.rec
	if len(bt.refs) == 0 {
		return rec, nil
	}
	deps := make([]spec.Key, 0, len(bt.refs))
	var reported map[target]bool
	for _, r := range bt.refs {
		k, ok := b.lookup(r)
		if !ok {
			t := target{r.kind, r.id}
			if final && !reported[t] {
				if reported == nil {
					reported = map[target]bool{}
				}
				reported[t] = true
				msg := fmt.Sprintf("%s %s not found in the synced workspaces", r.kind, r.id)
				if r.kind == refDataSource {
					msg = fmt.Sprintf("data source %s not found in the snapshot", r.id)
				}
				if r.note != "" {
					msg += " (" + r.note + ")"
				}
				problems = append(problems, record.Problem{Stage: "build", Asset: rec.Spec.PowerBI, Err: fmt.Errorf("%s", msg), Warning: true})
			}
			continue
		}
		if !slices.ContainsFunc(deps, k.Equal) {
			deps = append(deps, k)
		}
	}
	rec.Spec.Deps = deps
	return rec, problems
}

// compact drops released records from the held list.
func (b *Builder) compact() {
	n := 0
	for _, p := range b.pending {
		if !p.done {
			b.pending[n] = p
			n++
		}
	}
	clear(b.pending[n:])
	b.pending = b.pending[:n]
}

// dataSourceUsers maps each data source id of the batch to the workspace of the
// first model that waited for it in an earlier batch, else of the first model or
// dataflow in the batch that uses it. It must run before index releases the waiters.
func (b *Builder) dataSourceUsers(snap *snapshot.Snapshot) map[string]record.Workspace {
	users := map[string]record.Workspace{}
	for _, ds := range snap.DataSources {
		if ps := b.waiting[target{refDataSource, ds.ID}]; len(ps) > 0 {
			users[ds.ID] = ps[0].rec.Workspace
		}
	}
	add := func(id string, ws *snapshot.Workspace) {
		if _, ok := users[id]; !ok {
			users[id] = recordWorkspace(ws)
		}
	}
	for wi := range snap.Workspaces {
		ws := &snap.Workspaces[wi]
		for id := range ws.UsedDataSources() {
			add(id, ws)
		}
	}
	return users
}
