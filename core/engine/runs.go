package engine

import (
	"context"
	"fmt"
	"sync"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
)

// runSink is a sink that takes part in runs (sinkhost.Sink): it says which event kinds
// it writes, begins a run of a kind, commits it in Close and aborts it in AbortRun.
type runSink interface {
	Sink
	Begin(ctx context.Context, kind sink.RunKind) error
	Takes(kinds ...event.Kind) bool
	AbortRun(ctx context.Context, cause error)
}

// aborter ends a sink without flushing it.
type aborter interface{ Abort() }

// syncKinds are the events a sync sends.
var syncKinds = []event.Kind{event.KindSpec, event.KindRemoved, event.KindSummary}

// openOutputs opens the outputs that take any of kinds and begins a run of kind on each.
// Outputs that take none are ended unopened, so a command never touches an output its
// events do not go to. Without OpenSinks, the engine's fixed Sinks take every run.
func (e *Engine) openOutputs(ctx context.Context, kind sink.RunKind, kinds []event.Kind) ([]Sink, error) {
	out, _, err := e.openOffering(ctx, kind, kinds, nil)
	return out, err
}

// openOffering is openOutputs for a sync that offers outputs a run of changes only:
// offer says, per output, whether to (and whether there are none). whole reports, per
// output opened, that it is a plugin that did not take the offer, or was not made one,
// and must be sent every asset. Outputs of the engine (the estate, fixed Sinks) take
// changes.
func (e *Engine) openOffering(ctx context.Context, kind sink.RunKind, kinds []event.Kind, offer func(Sink) (changes, unchanged bool)) (out []Sink, whole []bool, err error) {
	if e.OpenSinks == nil {
		return e.Sinks, make([]bool, len(e.Sinks)), nil
	}
	all, err := e.OpenSinks(ctx)
	if err != nil {
		return nil, nil, err
	}
	for i, s := range all {
		rs, ok := s.(runSink)
		if !ok {
			out, whole = append(out, s), append(whole, false)
			continue
		}
		if !rs.Takes(kinds...) {
			if e.Logger != nil {
				e.Logger.Debug("the output takes none of this run's events: not opened", "output", s.Name(), "run", kind.String())
			}
			endUnopened(ctx, s)
			continue
		}
		var err error
		every := true
		if cs, ok := s.(changesSink); ok && offer != nil {
			if changes, unchanged := offer(s); changes {
				var took bool
				took, err = cs.BeginChanges(ctx, unchanged)
				every = !took
				if e.Logger != nil && err == nil {
					e.Logger.Debug("output offered the sync's changes only", "output", s.Name(), "unchanged", unchanged, "took", took)
				}
			} else {
				err = rs.Begin(ctx, kind)
			}
		} else {
			err = rs.Begin(ctx, kind)
		}
		if err != nil {
			for _, o := range out {
				abortSink(ctx, o, err)
			}
			for _, o := range all[i:] {
				endUnopened(ctx, o)
			}
			return nil, nil, err
		}
		out, whole = append(out, s), append(whole, every)
	}
	return out, whole, nil
}

func endUnopened(ctx context.Context, s Sink) {
	if a, ok := s.(aborter); ok {
		a.Abort()
		return
	}
	_ = s.Close(context.WithoutCancel(ctx))
}

// abortSink ends a sink's run as failed; a sink without runs is closed.
func abortSink(ctx context.Context, s Sink, cause error) {
	if rs, ok := s.(runSink); ok {
		rs.AbortRun(context.WithoutCancel(ctx), cause)
		return
	}
	_ = s.Close(context.WithoutCancel(ctx))
}

// open begins a run of kind on the outputs that take kinds, unless one is open already
// (the fixed Sinks of an engine without OpenSinks stay open across both runs of `run`).
func (r *run) open(ctx context.Context, kind sink.RunKind, kinds []event.Kind) error {
	if r.out != nil {
		return nil
	}
	var offer func(Sink) (bool, bool)
	if kind == sink.RunSync && r.cov != nil && r.cov.partial {
		offer = func(s Sink) (bool, bool) { return r.offer(ctx, s) }
	}
	out, whole, err := r.e.openOffering(ctx, kind, kinds, offer)
	if err != nil {
		return err
	}
	r.out, r.whole = out, whole
	r.sinks = make([]SinkResult, len(out))
	r.encodes = false
	for i, s := range out {
		r.sinks[i].Name = s.Name()
		if e, ok := s.(EncodedSink); ok && e.TakesEncoded() {
			r.encodes = true
		}
	}
	return nil
}

// end ends the open run on every output: committed when cause is nil, aborted (each
// output left as it was before the run) otherwise. What each received joins r.all.
// The outputs end at once (each commit is its own: a plugin writing out its last batches,
// the estate its last rows, a catalog applying its staged run), and end waits for all.
func (r *run) end(ctx context.Context, cause error) {
	closeCtx := context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	for i, s := range r.out {
		why := cause
		if why == nil {
			why = r.sinks[i].Err // this output failed on its own: the others commit
		}
		wg.Go(func() {
			if why != nil {
				abortSink(ctx, s, why)
				r.sinks[i].Aborted = true
				return
			}
			if err := s.Close(closeCtx); err != nil && r.sinks[i].Err == nil {
				r.sinks[i].Err = fmt.Errorf("sink %s: %w", s.Name(), err)
			}
		})
	}
	wg.Wait()
	for i, s := range r.out {
		if dr, ok := s.(deliveryReporter); ok {
			st := dr.Status()
			r.sinks[i].Complete, r.sinks[i].Restarts = st.Complete, st.Restarts
		} else {
			r.sinks[i].Complete = !r.sinks[i].Aborted && r.sinks[i].Err == nil
		}
	}
	for _, got := range r.sinks {
		merged := false
		for j := range r.all {
			if a := &r.all[j]; a.Name == got.Name {
				a.Events += got.Events
				a.Restarts += got.Restarts
				a.Complete = a.Complete && got.Complete
				a.Aborted = got.Aborted // what the output's last run did
				if a.Err == nil {
					a.Err = got.Err
				}
				merged = true
			}
		}
		if !merged {
			r.all = append(r.all, got)
		}
	}
	r.out, r.sinks, r.whole = nil, nil, nil
}

// results is what every output received in the runs that ended.
func (r *run) results() []SinkResult { return r.all }
