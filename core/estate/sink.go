package estate

import (
	"bytes"
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
	// kept holds the rows' kept events and related messages, back to back, until they
	// are staged (spans says where each row's are): one buffer reused by every stage,
	// instead of two allocations per asset. The rows' slices are set at the stage.
	kept  []byte
	spans []keptSpan
	enc   keptEncoder
	// buf and js encode summaries and pages: the text is copied once, into the row,
	// where json.Marshal would copy it once more.
	buf bytes.Buffer
	js  *json.Encoder
}

// keptSpan is where a row's event and related messages are in Sink.kept: kept[at:rel]
// and kept[rel:end].
type keptSpan struct{ at, rel, end int }

// text is v's JSON, as json.Marshal gives it.
func (s *Sink) text(v any) (string, error) {
	if s.js == nil {
		s.js = json.NewEncoder(&s.buf)
	}
	s.buf.Reset()
	if err := s.js.Encode(v); err != nil {
		return "", err
	}
	return string(bytes.TrimSuffix(s.buf.Bytes(), []byte("\n"))), nil
}

// NewSink returns the estate sink of a pipeline on a state store.
func NewSink(st *state.Store, pipeline string) *Sink { return &Sink{st: st, pipeline: pipeline} }

// Name implements the engine's Sink.
func (s *Sink) Name() string { return "estate" }

// The rows held before they are staged are bounded by count and by the bytes of their
// kept events (about 2 KB an asset compressed; 8 MiB is some 4,000 assets of the
// generated tenant). Each stage is a transaction, and each transaction rewrites the
// pages of the asset indexes it touched (the ids are random, so it touches most of
// them): a few large stages write far less than many small ones, for a bounded memory.
const (
	stageRows  = 4000
	stageBytes = 8 << 20
)

// Write stages spec and removed events; the summary marks the sync complete.
func (s *Sink) Write(ctx context.Context, events []event.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range events {
		ev := &events[i]
		switch ev.Kind {
		case event.KindSpec:
			sum, err := s.text(Summarize(ev.Spec))
			if err != nil {
				return fmt.Errorf("estate: asset %s: %w", ev.Spec.Key, err)
			}
			// No page is written: a page is made from the kept event when it is read
			// (one at a time, by the UI), which costs the sync nothing.
			sp := keptSpan{at: len(s.kept)}
			if s.kept, err = s.enc.appendEvent(s.kept, ev); err != nil {
				return fmt.Errorf("estate: asset %s: %w", ev.Spec.Key, err)
			}
			sp.rel = len(s.kept)
			if s.kept, err = appendRelated(s.kept, RelatedOf(ev.Spec)); err != nil {
				return fmt.Errorf("estate: asset %s: %w", ev.Spec.Key, err)
			}
			sp.end = len(s.kept)
			s.rows = append(s.rows, state.EstateRow{Type: string(ev.Spec.PowerBI.Type), ID: ev.Spec.PowerBI.ID, Summary: sum})
			s.spans = append(s.spans, sp)
		case event.KindRemoved:
			s.rows = append(s.rows, state.EstateRow{Type: string(ev.Removed.PowerBI.Type), ID: ev.Removed.PowerBI.ID, Removed: true})
			s.spans = append(s.spans, keptSpan{})
		case event.KindSummary:
			s.commit = true
		}
	}
	if len(s.rows) >= stageRows || len(s.kept) >= stageBytes || s.commit {
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
	for i, sp := range s.spans {
		if !s.rows[i].Removed {
			s.rows[i].Event, s.rows[i].Related = s.kept[sp.at:sp.rel:sp.rel], s.kept[sp.rel:sp.end:sp.end]
		}
	}
	err := s.run.Stage(ctx, s.rows)
	// Stage copied what it kept: the rows and their bytes are reused.
	clear(s.rows)
	s.rows, s.spans, s.kept = s.rows[:0], s.spans[:0], s.kept[:0]
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
