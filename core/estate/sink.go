package estate

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/sdk/event"
)

// Sink keeps a pipeline's estate in the state store as a sync streams by: it stages every
// spec and removal, and commits them when the sync's summary arrives (the engine sends it
// only after a sync that completed). A run that ends without a summary (a failed sync, or
// a refresh) leaves the estate as it was. It is an in-process sink of the engine.
type Sink struct {
	st       *state.Store
	pipeline string

	mu     sync.Mutex
	run    *state.EstateRun
	rows   []state.EstateRow
	commit bool
}

// NewSink returns the estate sink of a pipeline on a state store.
func NewSink(st *state.Store, pipeline string) *Sink { return &Sink{st: st, pipeline: pipeline} }

// Name implements the engine's Sink.
func (s *Sink) Name() string { return "estate" }

// stageEvery bounds the rows held before they are staged.
const stageEvery = 500

// Write stages spec and removed events; the summary marks the sync complete.
func (s *Sink) Write(ctx context.Context, events []event.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range events {
		switch ev.Kind {
		case event.KindSpec:
			sum, err := json.Marshal(Summarize(ev.Spec))
			if err != nil {
				return fmt.Errorf("estate: asset %s: %w", ev.Spec.Key, err)
			}
			page, err := json.Marshal(PageOf(ev.Spec))
			if err != nil {
				return fmt.Errorf("estate: asset %s: %w", ev.Spec.Key, err)
			}
			kept, err := EncodeEvent(&ev)
			if err != nil {
				return fmt.Errorf("estate: asset %s: %w", ev.Spec.Key, err)
			}
			rel, err := EncodeRelated(RelatedOf(ev.Spec))
			if err != nil {
				return fmt.Errorf("estate: asset %s: %w", ev.Spec.Key, err)
			}
			s.rows = append(s.rows, state.EstateRow{Type: string(ev.Spec.PowerBI.Type), ID: ev.Spec.PowerBI.ID, Summary: string(sum), Page: string(page),
				Event: kept, Related: rel})
		case event.KindRemoved:
			s.rows = append(s.rows, state.EstateRow{Type: string(ev.Removed.PowerBI.Type), ID: ev.Removed.PowerBI.ID, Removed: true})
		case event.KindSummary:
			s.commit = true
		}
	}
	if len(s.rows) >= stageEvery || s.commit {
		return s.flush(ctx)
	}
	return nil
}

func (s *Sink) flush(ctx context.Context) error {
	if len(s.rows) == 0 {
		return nil
	}
	if s.run == nil {
		run, err := s.st.BeginEstate(ctx, s.pipeline)
		if err != nil {
			return err
		}
		s.run = run
	}
	err := s.run.Stage(ctx, s.rows)
	s.rows = s.rows[:0]
	return err
}

// Close commits the staged estate if the sync completed, and drops it otherwise.
func (s *Sink) Close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.commit {
		if s.run != nil {
			return s.run.Abort(ctx)
		}
		return nil
	}
	if err := s.flush(ctx); err != nil {
		return err
	}
	if s.run == nil { // a sync with nothing in it still says so
		run, err := s.st.BeginEstate(ctx, s.pipeline)
		if err != nil {
			return err
		}
		s.run = run
	}
	return s.run.Commit(ctx)
}
