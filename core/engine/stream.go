package engine

import (
	"context"
	"sync"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
)

// stream gives `serve` one writer per output. Refresh events from schedules, upstream
// triggers and resumed refreshes are queued and written by one goroutine, in order, in
// a long-lived run of kind stream on the outputs that take them. A sync takes the
// outputs over: it commits the stream run first, runs its own, and the queued events
// follow once it ended. So no output ever has two writers, and no event is written
// into a file that a sync then replaces.
type stream struct {
	e *Engine

	mu   sync.Mutex // held by the writer of the outputs: a sync, or the stream
	open []Sink     // the stream run's outputs; nil when none is open

	qmu   sync.Mutex
	queue []event.Event
	wake  chan struct{}
	stop  chan struct{}
	done  chan struct{}
}

// StartStream makes the engine share its outputs between syncs and refreshes for a
// long-running `serve`: refresh events (RefreshModels, StreamRefresh) go through one
// ordered stream, and each sync waits for it to yield the outputs. StopStream ends it.
func (e *Engine) StartStream(ctx context.Context) {
	st := &stream{e: e, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	e.stream = st
	go st.run(context.WithoutCancel(ctx))
}

// StopStream writes the refresh events still queued, commits the stream run and ends
// it. It is a no-op without StartStream.
func (e *Engine) StopStream(ctx context.Context) {
	st := e.stream
	if st == nil {
		return
	}
	close(st.stop)
	<-st.done
	st.mu.Lock()
	defer st.mu.Unlock()
	st.flush(ctx)
	st.closeRun(ctx)
}

// StreamRefresh queues a refresh event for the outputs (a refresh followed outside
// RefreshModels, such as one resumed after a restart). Without StartStream it is dropped.
func (e *Engine) StreamRefresh(ev event.Refresh) {
	if e.stream != nil {
		e.stream.send(event.Event{Kind: event.KindRefresh, Refresh: &ev})
	}
}

func (st *stream) send(evs ...event.Event) {
	st.qmu.Lock()
	st.queue = append(st.queue, evs...)
	st.qmu.Unlock()
	st.kick()
}

func (st *stream) kick() {
	select {
	case st.wake <- struct{}{}:
	default:
	}
}

func (st *stream) run(ctx context.Context) {
	defer close(st.done)
	for {
		select {
		case <-st.wake:
		case <-st.stop:
			return
		}
		st.mu.Lock()
		st.flush(ctx)
		st.mu.Unlock()
	}
}

// flush writes the queued events to the stream run's outputs, beginning the run when
// none is open. Callers hold st.mu.
func (st *stream) flush(ctx context.Context) {
	st.qmu.Lock()
	evs := st.queue
	st.queue = nil
	st.qmu.Unlock()
	if len(evs) == 0 {
		return
	}
	log := st.e.logger()
	if st.open == nil {
		open, err := st.e.openOutputs(ctx, sink.RunStream, []event.Kind{event.KindRefresh})
		if err != nil {
			// Kept for the next try: the next event or sync kicks the stream again.
			log.Error("opening the outputs for refresh events; they wait for the next try", "events", len(evs), "error", err)
			st.qmu.Lock()
			st.queue = append(evs, st.queue...)
			st.qmu.Unlock()
			return
		}
		if len(open) == 0 {
			return // no output takes refresh events
		}
		st.open = open
	}
	var failed []Sink
	for _, s := range st.open {
		if err := s.Write(ctx, evs); err != nil {
			log.Error("an output failed to take refresh events; the stream run ends on it and begins again with the next events",
				"output", s.Name(), "events", len(evs), "error", err)
			failed = append(failed, s)
		}
	}
	if len(failed) > 0 {
		st.closeRun(ctx, failed...)
	}
}

// closeRun ends the stream run: committed on every output but the failed ones, which
// abort. Callers hold st.mu.
func (st *stream) closeRun(ctx context.Context, failed ...Sink) {
	cctx := context.WithoutCancel(ctx)
	for _, s := range st.open {
		isFailed := false
		for _, f := range failed {
			isFailed = isFailed || f == s
		}
		if isFailed {
			abortSink(cctx, s, nil)
			continue
		}
		if err := s.Close(cctx); err != nil {
			st.e.logger().Error("committing the refresh events of the stream", "output", s.Name(), "error", err)
		}
	}
	st.open = nil
}

// acquire takes the outputs for a sync: the stream run is committed first. release
// gives them back, and the events queued meanwhile are written.
func (st *stream) acquire(ctx context.Context) {
	st.mu.Lock()
	st.closeRun(ctx)
}

func (st *stream) release() {
	st.mu.Unlock()
	st.kick()
}
