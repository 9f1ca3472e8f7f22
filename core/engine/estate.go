package engine

import (
	"context"
	"fmt"
	"sync"

	"github.com/pbisync/pbisync/core/estate"
	"github.com/pbisync/pbisync/core/pipeline"
	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

// estateSinkName is the estate's name among a run's sinks (and in the report).
const estateSinkName = "estate"

// withEstate adds the estate sink to a run's sinks when the engine has a state store, so
// `pbisync impact`, `ui` and serve's UI read the last completed sync without calling the
// service.
func (e *Engine) withEstate(sinks []Sink) []Sink {
	st, ok := e.State.(*state.Store)
	if !ok || st == nil || (e.setup != nil && e.setup.p.NoEstate) {
		return sinks
	}
	return append(sinks, estate.NewSink(st, e.Pipeline))
}

// Estate returns the estate of the pipeline's last completed sync, from the state store;
// nil when the pipeline keeps no state.
func (e *Engine) Estate() estate.Source {
	st, ok := e.State.(*state.Store)
	if !ok || st == nil {
		return nil
	}
	return &estate.StoreSource{St: st, Pipeline: e.Pipeline}
}

// Collect runs the sync with an in-memory sink in place of the pipeline's outputs (none of
// them is opened) and returns every spec it built, for a reader of a snapshot file. The
// state store, if any, is neither read nor written.
func (e *Engine) Collect(ctx context.Context) ([]spec.AssetSpec, *Result, error) {
	c := &collector{}
	saved, savedOpen, savedState := e.Sinks, e.OpenSinks, e.State
	e.Sinks, e.OpenSinks, e.State = []Sink{c}, nil, nil
	defer func() { e.Sinks, e.OpenSinks, e.State = saved, savedOpen, savedState }()
	res, err := e.Run(ctx, RunOptions{})
	return c.specs, res, err
}

// collector is a sink that keeps every spec it is sent.
type collector struct {
	mu    sync.Mutex
	specs []spec.AssetSpec
}

func (c *collector) Name() string { return "collect" }

func (c *collector) Write(_ context.Context, events []event.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ev := range events {
		if ev.Kind == event.KindSpec {
			c.specs = append(c.specs, ev.Spec.Clone())
		}
	}
	return nil
}

func (c *collector) Close(context.Context) error { return nil }

// OpenEstate opens the state store of a pipeline and returns its estate, without starting
// anything else the pipeline names (sources, translators, outputs). close closes the store.
func OpenEstate(ctx context.Context, p *pipeline.Pipeline) (src estate.Source, close func(), err error) {
	if p.StateDir == "" {
		return nil, nil, fmt.Errorf("%s: the pipeline keeps no state (state_dir is empty), so it has no estate to read", p.File)
	}
	s := newSetup(p, SetupOptions{})
	st, err := state.Open(ctx, s.resolve(p.StateDir))
	if err != nil {
		return nil, nil, err
	}
	gen, _, err := st.EstateGeneration(ctx, p.Name)
	if err == nil && gen == 0 {
		err = fmt.Errorf("%s: pipeline %q has no estate in %s yet: run `pbisync sync` first", p.File, p.Name, st.Path())
	}
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return &estate.StoreSource{St: st, Pipeline: p.Name}, func() { st.Close() }, nil
}

// SnapshotSpecs builds the specs of a snapshot (or raw scanResult) file with the default
// builder and lineage, as `pbisync sync --snapshot` does, without writing anything.
func SnapshotSpecs(ctx context.Context, file string, opts SetupOptions) ([]spec.AssetSpec, *Result, error) {
	doc := fmt.Sprintf("version: 1\nname: snapshot\nsources:\n  - snapshot: %q\noutputs:\n  - name: none\n    jsonl: {path: \"-\", format: specs}\n", file)
	p, err := pipeline.Parse("(--snapshot)", []byte(doc))
	if err != nil {
		return nil, nil, err
	}
	p.StateDir = ""
	e, err := FromPipeline(ctx, p, opts)
	if err != nil {
		return nil, nil, err
	}
	defer e.Close()
	return e.Collect(ctx)
}
