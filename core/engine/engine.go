package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pbisync/pbisync/core/lineage"
	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/core/refresh"
	"github.com/pbisync/pbisync/core/sinkhost"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/spec"
)

// Source yields a tenant (or part of one) as a stream of snapshots, one per batch of
// workspaces. emit may be called from several goroutines; it is safe for that.
type Source interface {
	Name() string
	Snapshots(ctx context.Context, emit func(*snapshot.Snapshot) error) error
}

// RequestCounter is implemented by sources that call an API and count the requests.
type RequestCounter interface {
	Requests() map[string]int64
}

// ProblemReporter is implemented by sources that report what their last run could
// not read (snapshot.IncompleteError and snapshot.GoneError say which workspaces).
type ProblemReporter interface {
	Problems() []error
}

// Builder turns snapshot batches into default records. Add may hold records back until
// a later batch resolves their deps; Flush returns whatever is left at the end.
type Builder interface {
	Add(s *snapshot.Snapshot) ([]record.Record, []record.Problem)
	Flush() ([]record.Record, []record.Problem)
}

// KeyChecker is told the key and identity of every spec that leaves the translators and
// reports a problem when the key is already held by another asset. It copies what it
// keeps of key and id. Reset starts the next sync: an engine runs many (serve), and the
// keys of the last one no longer belong to anybody.
type KeyChecker interface {
	Claim(key spec.Key, id *spec.Identity) *record.Problem
	Reset()
}

// StateStore remembers which assets a pipeline's previous sync produced, so that the
// assets that have gone since can be reported to sinks (core/state implements it).
type StateStore interface {
	PreviousAssets(ctx context.Context, pipeline string) (map[state.AssetID]state.Asset, error)
	SaveAssets(ctx context.Context, pipeline string, assets []state.Asset) error
}

// maxSummaryProblems bounds the problems listed in the summary event.
const maxSummaryProblems = 200

// Progress is the state of a running sync, for a progress display. The engine reports
// what it built; a source that calls an API reports its scans (Scan set).
type Progress struct {
	Workspaces int
	Assets     int
	Batches    int
	// Scan is the source's side: workspaces listed and read so far.
	Scan *ScanProgress
}

// ScanProgress is how far a source's reading of the tenant went.
type ScanProgress struct {
	Source          string
	Path            string // scanner or api
	WorkspacesTotal int
	WorkspacesDone  int
}

// Engine runs a sync: sources -> builder -> translators -> key check -> sinks.
type Engine struct {
	Pipeline    string // the pipeline's name, for the state store
	Sources     []Source
	NewBuilder  func() Builder
	Keys        KeyChecker // optional
	Translators []Translator
	Sinks       []Sink
	// OpenSinks, if set, opens fresh sinks for every Run and Sinks is ignored: a
	// long-running `serve` runs one engine many times, and each run closes its sinks.
	OpenSinks func(ctx context.Context) ([]Sink, error)
	State     StateStore // optional: without it no removed events are sent
	Logger    *slog.Logger
	// Progress, if set, is called after every batch.
	Progress func(Progress)
	// SinkBatch is the number of events handed to a sink in one Write (default 500).
	SinkBatch int
	// Now returns the current time (default time.Now); tests pin it.
	Now func() time.Time

	// Lineage resolves the M of every model in a batch before specs are built, filling
	// SemanticModel.Lineage (nil: the builder's own fallback scan).
	Lineage func(*snapshot.Snapshot) lineage.Stats

	// Journal remembers running refreshes across restarts (optional).
	Journal refresh.Journal

	setup *setup // what FromPipeline started, if it built this engine
	// outputFP fingerprints each output's configuration (whole.go).
	outputFP map[string]string
	// kept are the semantic models of the last run, for refreshes after an incremental
	// sync that did not rescan them (incremental.go).
	kept    []Model
	refresh *refresh.Config // the pipeline's refresh section, if any
	stream  *stream         // serve's shared outputs (StartStream), if any
}

func (e *Engine) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

// SinkResult says what one sink received.
type SinkResult struct {
	Name   string
	Events int
	Err    error
	// Complete is set when the sink acknowledged every event and closed cleanly;
	// Restarts counts the times a failed sink was restarted (sink plugins say both).
	Complete bool
	Restarts int
	// Aborted is set when the output's last run failed and the output was told to abort
	// it: it holds what it held before that run (an appending output keeps the whole
	// records it added).
	Aborted bool
}

// deliveryReporter is implemented by sinks that know what they delivered (plugins).
type deliveryReporter interface {
	Status() sinkhost.Status
}

// Errors counts the problems that are not warnings.
func (r *Result) Errors() int {
	n := 0
	for _, p := range r.Problems {
		if !p.Warning {
			n++
		}
	}
	return n
}

// Result is the outcome of a sync.
type Result struct {
	// Models are the semantic models the sync produced, for refreshes.
	Models   []Model
	Summary  event.Summary
	Problems []record.Problem
	Sinks    []SinkResult
}

// Model is a semantic model that a sync produced, with the source it came from, for
// refreshes.
type Model struct {
	Record record.Record // the spec after translators; Raw keeps only isRefreshable
	Source Source
	// spec (encoded, see refreshSpec) and related are what refresh events carry of the
	// model, so that they are self-contained too.
	spec    []byte
	related []event.Related
}

// RunOptions change what Run does besides the sync.
type RunOptions struct {
	// NoSpecs keeps spec, removed and summary events away from the sinks, for an ad hoc
	// refresh that only needs the models.
	NoSpecs bool
	// Full scans every workspace of every source, whatever the sources' high-water marks
	// say (`pbisync sync --full`); without it a source that can sync incrementally reads
	// only what changed (incremental.go).
	Full bool
	// Synced, if set, is told the sync's result before After runs (for a report).
	Synced func(*Result)
	// After runs once the sync succeeded, before the sinks close. send hands events to
	// every sink.
	After func(ctx context.Context, models []Model, send func(...event.Event) error) error
	// ModelSpecs keeps every model's spec in Result.Models, so that the refresh events of
	// a later RefreshModels carry it (a run with After keeps them anyway). It costs the
	// models' column schemas in memory, encoded and compressed: about 13 MB for 1,000,000
	// columns (49 MB as JSON), more with column lineage.
	ModelSpecs bool
	// ModelSpecFor, when set, says which models After (or a later RefreshModels) may
	// refresh: the run keeps the specs of those only (Engine.RefreshPicks).
	ModelSpecFor func(*record.Record) bool
	// NoModels says the caller refreshes nothing after this run (`pbisync sync`, or
	// `pbisync run` of a pipeline that refreshes nothing after its sync): the run
	// keeps no models and Result.Models is nil. A model costs about 1.7 KB for its
	// keys, deps and tags, which grew with the tenant: a 2,000-workspace tenant's
	// 20,000 models held 35 MB until the sync's end. After needs the models: with it,
	// NoModels does nothing.
	NoModels bool
}

// Sync runs the pipeline's sync once and closes the sinks. It returns an error when the
// sync could not complete; per-asset problems are in the result and do not stop it.
func (e *Engine) Sync(ctx context.Context) (*Result, error) { return e.Run(ctx, RunOptions{}) }

// Run syncs, runs opts.After, and closes the sinks.
func (e *Engine) Run(ctx context.Context, opts RunOptions) (*Result, error) {
	log := e.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := e.Now
	if now == nil {
		now = time.Now
	}
	batchSize := e.SinkBatch
	if batchSize <= 0 {
		batchSize = 500
	}
	r := &run{e: e, log: log, batch: batchSize, noSpecs: opts.NoSpecs, wsSource: map[string]Source{},
		rel: newRelatedIndex(), modelSpecs: opts.ModelSpecs || opts.After != nil, noModels: opts.NoModels && opts.After == nil, specFor: opts.ModelSpecFor}
	r.res.Summary = event.Summary{StartedAt: now().UTC(), Assets: map[string]int{}}
	if e.stream != nil {
		// Under serve the outputs are shared: this run has them to itself until it ends.
		e.stream.acquire(ctx)
		defer e.stream.release()
	}
	if st, ok := e.State.(*state.Store); ok && st != nil && !opts.NoSpecs {
		// One sync of a pipeline at a time: two would write its outputs and state over
		// each other.
		unlock, err := st.LockSync(e.Pipeline)
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	if e.Keys != nil {
		e.Keys.Reset() // an asset removed since the last run no longer holds its key
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	builder := e.NewBuilder()
	var srcErr error
	if e.State != nil && !opts.NoSpecs {
		// The plan comes first: what each output is offered depends on it.
		srcErr = r.plan(ctx, opts.Full, builder)
	}
	if !opts.NoSpecs && srcErr == nil {
		// A sync opens the outputs that take a sync's events; a refresh opens its own
		// later, so a file of specs is never opened by one.
		if err := r.open(ctx, sink.RunSync, syncKinds); err != nil {
			return nil, err
		}
	}
	if srcErr == nil {
		srcErr = r.pull(ctx, builder)
		// The last part's specs may still be on their way to the outputs.
		if err := r.waitBehind(); srcErr == nil {
			srcErr = err
		}
	}
	r.sourceProblems()
	if srcErr == nil {
		recs, probs := builder.Flush()
		r.problems(probs)
		srcErr = r.process(ctx, recs)
		if err := r.waitBehind(); srcErr == nil {
			srcErr = err
		}
	}
	if srcErr == nil {
		// Events still waiting for an asset the estate never sent go now.
		var held []event.Event
		r.rel.flush(&held)
		if !r.noSpecs {
			srcErr = r.write(ctx, held)
		}
	}
	if srcErr == nil && !opts.NoSpecs {
		srcErr = r.sendStaleDependents(ctx)
	}
	if srcErr == nil && !opts.NoSpecs {
		srcErr = r.sendCarried(ctx)
	}
	if srcErr == nil && e.State != nil && !opts.NoSpecs {
		srcErr = r.removals(ctx)
	}
	for _, s := range e.Sources {
		if rc, ok := s.(RequestCounter); ok {
			if r.res.Summary.Requests == nil {
				r.res.Summary.Requests = map[string]int64{}
			}
			for k, v := range rc.Requests() {
				r.res.Summary.Requests[k] += v
			}
		}
	}
	if r.e.Lineage != nil {
		l := r.lineage
		r.res.Summary.Lineage = &event.LineageStats{Tables: l.Tables, Resolved: l.Resolved, Partial: l.Partial,
			NonTable: l.NonTable, Unresolved: l.Unresolved, Upstream: l.Upstream, Reasons: l.Reasons}
	}
	r.res.Summary.EndedAt = now().UTC()
	// The summary lists the first problems; a tenant with thousands of clashing keys
	// would otherwise send sinks a summary of megabytes. The log has every one.
	for i, p := range r.res.Problems {
		if i == maxSummaryProblems {
			r.res.Summary.Problems = append(r.res.Summary.Problems, fmt.Sprintf("... and %d more (see the log)", len(r.res.Problems)-i))
			break
		}
		msg := p.Error()
		if p.Warning {
			msg = "warning: " + msg
		}
		r.res.Summary.Problems = append(r.res.Summary.Problems, msg)
	}
	if srcErr == nil && !opts.NoSpecs {
		sum := r.res.Summary
		srcErr = r.write(ctx, []event.Event{{Kind: event.KindSummary, Summary: &sum}})
	}
	if srcErr == nil {
		r.models, srcErr = r.withKeptModels(ctx, opts.After != nil || opts.ModelSpecs)
	}
	if srcErr == nil && opts.Synced != nil {
		partial := r.res
		partial.Models = r.models
		opts.Synced(&partial)
	}
	// The sync's outputs commit now (or, after a failure, abort and stay as they were);
	// the state store remembers the sync only once every output has it.
	static := e.OpenSinks == nil
	if !static || opts.After == nil || srcErr != nil {
		r.end(ctx, srcErr)
		if srcErr == nil && r.current != nil {
			srcErr = r.saveState(context.WithoutCancel(ctx))
		}
	}
	if srcErr == nil && opts.After != nil {
		// The refresh step is a run of its own, on the outputs that take refresh events.
		srcErr = r.open(ctx, sink.RunRefresh, []event.Kind{event.KindRefresh})
		if srcErr == nil {
			srcErr = opts.After(ctx, r.models, func(evs ...event.Event) error { return r.write(ctx, evs) })
		}
		r.end(ctx, srcErr)
		if static && srcErr == nil && r.current != nil {
			srcErr = r.saveState(context.WithoutCancel(ctx))
		}
	}
	r.res.Sinks = r.results()
	r.res.Models = r.models
	if srcErr != nil {
		return &r.res, srcErr
	}
	var errs []error
	for _, s := range r.res.Sinks {
		if s.Err != nil {
			errs = append(errs, s.Err)
		}
	}
	return &r.res, errors.Join(errs...)
}

type run struct {
	e     *Engine
	log   *slog.Logger
	batch int
	res   Result
	// batches counts the snapshot batches pulled so far.
	batches int
	noSpecs bool
	// models are the semantic models sent, for refreshes; wsSource maps a workspace
	// to the source that read it.
	models   []Model
	noModels bool // RunOptions.NoModels: models stays nil
	wsSource map[string]Source
	out      []Sink       // the sinks of the open run
	encodes  bool         // some sink of out takes spec events encoded (EncodedSink)
	sinks    []SinkResult // what each of out received in the open run
	all      []SinkResult // what each output received in the runs that ended
	lineage  lineage.Stats
	current  []state.Asset // this sync's assets, saved once the sinks have them
	// remap maps a default key (keyString) to the key translators gave its asset.
	remap map[string]spec.Key
	// cov is what the sources read, when they planned an incremental sync.
	cov *coverage
	// prevRelated is what the estate said of the assets this incremental sync rescans,
	// to tell which changed, key included: the carried assets that refer to those are
	// sent again (stale.go).
	prevRelated map[state.AssetID]event.Related
	// rel resolves the assets each event refers to.
	rel *relatedIndex
	// modelSpecs keeps each model's spec for its refresh events; specFor, when set,
	// says which models' (RunOptions.ModelSpecFor).
	modelSpecs bool
	specFor    func(*record.Record) bool
	// unread is what the sources could not read: no evidence that it is gone.
	unread unread
	// refreshable is the isRefreshable of the models of the part being built, by id,
	// as the snapshot decoded it from their raw properties (refreshableOf).
	refreshable map[string]*bool
	// refreshableFromRaw says the part's snapshot decoded its models from their raw
	// properties: a nil isRefreshable means the raw properties have none.
	refreshableFromRaw bool
	// whole marks the open outputs that must be sent every asset (whole.go), and
	// estateGen is the estate generation this sync started from.
	whole     []bool
	estateGen int64
	// behind is closed when the write in flight (writeBehind) is done, behindErr
	// then its error; nil when none is.
	behind    chan struct{}
	behindErr error
}

// pull streams every source's snapshots into the builder and the rest of the pipeline.
// Sources run one after another; a source's own concurrency (parallel scans) feeds a
// channel so that building and translating overlap with fetching. A batch's lineage is
// resolved on the source's side of the channel, so that it overlaps with building and
// translating the batch before it.
func (r *run) pull(ctx context.Context, b Builder) error {
	type batch struct {
		s       *snapshot.Snapshot
		lineage lineage.Stats
	}
	for _, src := range r.e.Sources {
		ch := make(chan batch)
		errc := make(chan error, 1)
		srcCtx, cancel := context.WithCancel(ctx)
		go func() {
			defer close(ch)
			errc <- src.Snapshots(srcCtx, func(s *snapshot.Snapshot) error {
				bt := batch{s: s}
				if r.e.Lineage != nil {
					bt.lineage = r.e.Lineage(s)
				}
				select {
				case ch <- bt:
					return nil
				case <-srcCtx.Done():
					return srcCtx.Err()
				}
			})
		}()
		var procErr error
		for bt := range ch {
			if procErr != nil {
				continue // drain so the source can finish
			}
			s := bt.s
			r.batches++
			if r.e.Lineage != nil {
				r.lineage.Add(bt.lineage)
			}
			for i := range s.Workspaces {
				r.wsSource[s.Workspaces[i].ID] = src
			}
			r.res.Summary.Workspaces += len(s.Workspaces)
			// Lineage has seen the whole batch (it links items across its workspaces);
			// the rest goes a part at a time (split.go).
			for _, part := range splitSnapshot(s, partWorkspaces) {
				r.noteRefreshable(part)
				recs, probs := b.Add(part)
				r.problems(probs)
				procErr = r.process(ctx, recs)
				clear(r.refreshable)
				if procErr != nil {
					cancel()
					break
				}
			}
			if r.e.Progress != nil {
				r.e.Progress(Progress{Workspaces: r.res.Summary.Workspaces, Assets: r.rel.sentN, Batches: r.batches})
			}
		}
		err := <-errc
		cancel()
		if procErr != nil {
			return procErr
		}
		if err != nil {
			return fmt.Errorf("source %s: %w", src.Name(), err)
		}
	}
	return nil
}

func (r *run) problems(ps []record.Problem) {
	for _, p := range ps {
		if p.Warning {
			r.log.Warn("warning", "stage", p.Stage, "asset", p.Asset.String(), "message", p.Err)
			continue
		}
		r.log.Error("problem", "stage", p.Stage, "asset", p.Asset.String(), "error", p.Err)
	}
	r.res.Problems = append(r.res.Problems, ps...)
}

// process runs records through the translators and the key check and sends them on.
func (r *run) process(ctx context.Context, recs []record.Record) error {
	if len(recs) == 0 {
		return nil
	}
	in := len(recs)
	// What each record refers to, by identity: translators do not keep Refs.
	refs := make(map[state.AssetID][]record.Ref, len(recs))
	for i := range recs {
		if len(recs[i].Refs) > 0 {
			refs[state.IDOf(recs[i].Spec.PowerBI)] = recs[i].Refs
		}
	}
	var inIDs []spec.Identity
	if len(r.e.Translators) > 0 {
		inIDs = make([]spec.Identity, len(recs))
		for i := range recs {
			inIDs[i] = recs[i].Spec.PowerBI
		}
	}
	var defaults map[spec.Identity]string
	if len(r.e.Translators) > 0 {
		defaults = make(map[spec.Identity]string, len(recs))
		for i := range recs {
			defaults[recs[i].Spec.PowerBI] = keyString(recs[i].Spec.Key)
		}
	}
	for _, t := range r.e.Translators {
		out, probs, err := t.Translate(ctx, recs)
		r.problems(probs)
		if err != nil {
			return fmt.Errorf("translator %s: %w", t.Name(), err)
		}
		recs = out
	}
	r.res.Summary.Dropped += in - len(recs)
	r.remapDeps(recs, defaults)
	events := make([]event.Event, 0, len(recs))
	if inIDs != nil {
		kept := make(map[state.AssetID]bool, len(recs))
		for i := range recs {
			kept[state.IDOf(recs[i].Spec.PowerBI)] = true
		}
		for _, id := range inIDs {
			if !kept[state.IDOf(id)] {
				r.rel.dropped(id, &events)
			}
		}
	}
	for i := range recs {
		s := &recs[i].Spec
		if err := s.Validate(); err != nil {
			r.problems([]record.Problem{{Stage: "spec", Asset: s.PowerBI, Err: err}})
			r.rel.dropped(s.PowerBI, &events)
			continue
		}
		r.res.Summary.Assets[string(s.PowerBI.Type)]++
		if s.PowerBI.Type == spec.SemanticModel && !r.noModels {
			// Keep what refresh selection reads (key, deps, tags, identity, the
			// dataflows it reads), not the rest of the metadata: a model's column
			// schemas would make this grow with the tenant.
			kept := spec.AssetSpec{Key: slices.Clone(s.Key), Deps: slices.Clone(s.Deps), Tags: maps.Clone(s.Tags), PowerBI: s.PowerBI}
			if df, ok := s.Metadata[refresh.UpstreamDataflowsKey]; ok {
				kept.Metadata = map[string]spec.Metadata{refresh.UpstreamDataflowsKey: df}
			}
			m := Model{
				Record:  record.Record{Spec: kept, Raw: r.refreshableOf(s.PowerBI.ID, recs[i].Raw), Workspace: recs[i].Workspace},
				Source:  r.wsSource[s.PowerBI.WorkspaceID],
				related: cloneRelated(r.rel.related(refs[state.IDOf(s.PowerBI)])),
			}
			if r.keepsSpec(&m.Record) {
				m.spec = refreshSpec(s)
			}
			r.models = append(r.models, m)
		}
		r.rel.add(s, refs[state.IDOf(s.PowerBI)], &events)
		if r.e.Keys != nil {
			if p := r.e.Keys.Claim(s.Key, &s.PowerBI); p != nil {
				r.problems([]record.Problem{*p})
			}
		}
	}
	if r.noSpecs {
		return nil
	}
	return r.writeBehind(ctx, events)
}

// keepsSpec reports whether the run keeps the spec of the model of rec for its refresh
// events.
func (r *run) keepsSpec(rec *record.Record) bool {
	return r.modelSpecs && (r.specFor == nil || r.specFor(rec))
}

// keyString is a map key for a spec.Key; NUL cannot occur in a key part from YAML or JSON
// text that a user would write, and keeps ["a/b"] apart from ["a","b"].
func keyString(k spec.Key) string { return strings.Join(k, "\x00") }

// remapDeps points deps at the keys translators gave their targets. The builder wrote
// every dep with its target's default key; a translator that re-keys a model (say)
// would otherwise leave the reports on it pointing at a key nobody has. Targets reach
// the translators no later than the assets that depend on them, so the table is
// complete for every dep of a batch.
func (r *run) remapDeps(recs []record.Record, defaults map[spec.Identity]string) {
	if defaults == nil {
		return
	}
	for i := range recs {
		s := &recs[i].Spec
		if old, ok := defaults[s.PowerBI]; ok && old != keyString(s.Key) {
			if r.remap == nil {
				r.remap = map[string]spec.Key{}
			}
			r.remap[old] = s.Key
		}
	}
	if len(r.remap) == 0 {
		return
	}
	for i := range recs {
		deps := recs[i].Spec.Deps
		for j, d := range deps {
			if k, ok := r.remap[keyString(d)]; ok {
				deps[j] = slices.Clone(k)
			}
		}
	}
}

// noteRefreshable remembers the isRefreshable of a part's models.
func (r *run) noteRefreshable(s *snapshot.Snapshot) {
	if r.refreshable == nil {
		r.refreshable = map[string]*bool{}
	}
	r.refreshableFromRaw = s.FromRaw
	for wi := range s.Workspaces {
		for _, m := range s.Workspaces[wi].SemanticModels {
			if m.ID != "" {
				r.refreshable[m.ID] = m.IsRefreshable
			}
		}
	}
}

// refreshableOf is refreshableOnly(raw) for a model whose raw properties the snapshot
// decoded (translators do not change raw): the snapshot read isRefreshable from the same
// bytes, and decoding a large model's raw again (tables, columns) only for it cost as much
// as a tenth of a sync. A model from elsewhere (the state store) has its raw read.
func (r *run) refreshableOf(id string, raw json.RawMessage) json.RawMessage {
	v, ok := r.refreshable[id]
	if !ok || (v == nil && !r.refreshableFromRaw && containsFoldASCII(raw, "isrefreshable")) {
		// Not from this part, or the snapshot has no value where the raw properties
		// may (a snapshot file written by hand): the raw properties say.
		return refreshableOnly(raw)
	}
	if v == nil {
		return nil
	}
	if *v {
		return json.RawMessage(`{"isRefreshable":true}`)
	}
	return json.RawMessage(`{"isRefreshable":false}`)
}

// containsFoldASCII reports whether b holds lower (lower-case ASCII) in any case.
func containsFoldASCII(b []byte, lower string) bool {
	for i := 0; i+len(lower) <= len(b); i++ {
		j := 0
		for j < len(lower) && b[i+j]|0x20 == lower[j] {
			j++
		}
		if j == len(lower) {
			return true
		}
	}
	return false
}

// refreshableOnly keeps the one raw property that refresh selection reads, so the
// models kept for refreshes do not hold their tables.
func refreshableOnly(raw json.RawMessage) json.RawMessage {
	var p struct {
		IsRefreshable *bool `json:"isRefreshable,omitempty"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &p) != nil || p.IsRefreshable == nil {
		return nil
	}
	b, _ := json.Marshal(p)
	return b
}
