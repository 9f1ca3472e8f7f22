package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
)

// runRecorder is a sink with runs, as sinkhost.Sink is; it logs what the engine does
// with it ("begin sync", "write 3", "commit", "abort: ...", "unopened").
type runRecorder struct {
	collect
	takes []event.Kind // nil: every kind
	log   *[]string
	mu    *sync.Mutex
}

func (r *runRecorder) note(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.log = append(*r.log, r.name+" "+s)
}

func (r *runRecorder) Begin(_ context.Context, kind sink.RunKind) error {
	r.note("begin " + kind.String())
	return nil
}
func (r *runRecorder) Takes(kinds ...event.Kind) bool {
	if r.takes == nil {
		return true
	}
	for _, k := range kinds {
		for _, t := range r.takes {
			if k == t {
				return true
			}
		}
	}
	return false
}
func (r *runRecorder) Write(ctx context.Context, evs []event.Event) error {
	r.note(fmt.Sprintf("write %s", evs[0].Kind))
	return r.collect.Write(ctx, evs)
}
func (r *runRecorder) Close(context.Context) error { r.note("commit"); return nil }
func (r *runRecorder) AbortRun(_ context.Context, cause error) {
	r.note("abort: " + cause.Error())
}
func (r *runRecorder) Abort() { r.note("unopened") }

// recordingOutputs opens fresh recorders for every run, as the sink host starts fresh
// plugins: "events" takes every kind, "specs" only specs, "refreshes" only refreshes.
func recordingOutputs() (func(context.Context) ([]Sink, error), func() []string) {
	var log []string
	var mu sync.Mutex
	logged := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), log...)
	}
	return func(context.Context) ([]Sink, error) {
		return []Sink{
			&runRecorder{collect: collect{name: "events"}, log: &log, mu: &mu},
			&runRecorder{collect: collect{name: "specs"}, takes: []event.Kind{event.KindSpec}, log: &log, mu: &mu},
			&runRecorder{collect: collect{name: "refreshes"}, takes: []event.Kind{event.KindRefresh}, log: &log, mu: &mu},
		}, nil
	}, logged
}

func TestRunsOpenOnlyTheirOutputs(t *testing.T) {
	refreshEvent := event.Event{Kind: event.KindRefresh, Refresh: &event.Refresh{RequestID: "r1", State: event.RefreshCompleted}}
	sendRefresh := func(ctx context.Context, _ []Model, send func(...event.Event) error) error { return send(refreshEvent) }
	tests := []struct {
		name   string
		source Source
		opts   RunOptions
		want   []string
	}{
		{"sync", nil, RunOptions{}, []string{
			"events begin sync", "specs begin sync", "refreshes unopened",
			"events write spec", "specs write spec", "events write summary", "specs write summary",
			"events commit", "specs commit"}},
		{"run: the sync commits, then a refresh run on the outputs that take refreshes", nil, RunOptions{After: sendRefresh}, []string{
			"events begin sync", "specs begin sync", "refreshes unopened",
			"events write spec", "specs write spec", "events write summary", "specs write summary",
			"events commit", "specs commit",
			"events begin refresh", "specs unopened", "refreshes begin refresh",
			"events write refresh", "refreshes write refresh", "events commit", "refreshes commit"}},
		{"refresh opens nothing for specs", nil, RunOptions{NoSpecs: true, After: sendRefresh}, []string{
			"events begin refresh", "specs unopened", "refreshes begin refresh",
			"events write refresh", "refreshes write refresh", "events commit", "refreshes commit"}},
		{"a sync that fails midway aborts", &sliceSource{err: errors.New("scan failed")}, RunOptions{After: sendRefresh}, []string{
			"events begin sync", "specs begin sync", "refreshes unopened",
			"events write spec", "specs write spec",
			"events abort: source slice: scan failed", "specs abort: source slice: scan failed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.source
			if src == nil {
				src = &sliceSource{}
			}
			s := src.(*sliceSource)
			s.batches = []*snapshot.Snapshot{loadMSDocs(t)}
			e := newEngine([]Source{s})
			open, log := recordingOutputs()
			e.OpenSinks = open
			e.Run(context.Background(), tc.opts)
			// Writes to the outputs of one run happen in parallel: compare each
			// output's own sequence, and the order of the runs.
			for _, name := range []string{"events", "specs", "refreshes"} {
				if got, want := only(log(), name), only(tc.want, name); strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("%s:\n got %q\nwant %q", name, got, want)
				}
			}
		})
	}
}

// only keeps one output's entries, with repeated writes folded into one.
func only(log []string, name string) []string {
	var out []string
	for _, l := range log {
		if !strings.HasPrefix(l, name+" ") {
			continue
		}
		if len(out) > 0 && out[len(out)-1] == l && strings.Contains(l, " write ") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// hookSource runs during a sync: it queues a refresh event as a trigger would.
type hookSource struct {
	sliceSource
	during func()
}

func (h *hookSource) Snapshots(ctx context.Context, emit func(*snapshot.Snapshot) error) error {
	h.during()
	return h.sliceSource.Snapshots(ctx, emit)
}

// TestStreamYieldsToSyncs: under serve, refresh events go through one stream run; a
// sync commits it first and has the outputs to itself; the events queued meanwhile
// follow in a new stream run once the sync committed.
func TestStreamYieldsToSyncs(t *testing.T) {
	ctx := context.Background()
	src := &hookSource{sliceSource: sliceSource{batches: []*snapshot.Snapshot{loadMSDocs(t)}}}
	e := newEngine([]Source{src})
	open, log := recordingOutputs()
	e.OpenSinks = open
	e.StartStream(ctx)
	e.StreamRefresh(event.Refresh{RequestID: "before", State: event.RefreshRequested})
	for i := 0; ; i++ {
		if len(only(log(), "events")) >= 2 {
			break
		}
		if i > 5000 {
			t.Fatal("the stream never wrote")
		}
		time.Sleep(time.Millisecond)
	}
	src.during = func() { e.StreamRefresh(event.Refresh{RequestID: "during", State: event.RefreshRequested}) }
	if _, err := e.Run(ctx, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	e.StopStream(ctx)
	want := []string{"events begin stream", "events write refresh", "events commit",
		"events begin sync", "events write spec", "events write summary", "events commit",
		"events begin stream", "events write refresh", "events commit"}
	if got := only(log(), "events"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n got %q\nwant %q", got, want)
	}
	if got := only(log(), "specs"); len(got) == 0 || got[0] != "specs unopened" {
		t.Errorf("specs: %q", got)
	}
}
