package engine

import (
	"context"
	"fmt"
	"sync"
)

// rawWriter writes to the raw store in its own goroutine, in the order it is given the
// writes, so that a batch goes on to the builder as soon as it is encoded: the state
// store's commits and checkpoints (an fsync each, slow on a busy disk) are not in the
// scan's path. A scan is marked read only after its batch is written, behind it in the
// queue. Its first error fails the sync (wait returns it), since the raw store would
// otherwise hold an older snapshot of a workspace than the one sent.
type rawWriter struct {
	ops  chan func(context.Context) error
	done chan struct{}

	mu  sync.Mutex
	err error
}

// rawWriterQueue is how many writes may wait: a few batches' blobs (about 2.5 MB each
// for 100 large workspaces).
const rawWriterQueue = 4

// startRawWriter starts the writer. What was queued is written even after ctx ends (a
// sync interrupted, say by SIGINT): the next sync replays it instead of scanning again.
func startRawWriter(ctx context.Context) *rawWriter {
	w := &rawWriter{ops: make(chan func(context.Context) error, rawWriterQueue), done: make(chan struct{})}
	ctx = context.WithoutCancel(ctx)
	go func() {
		defer close(w.done)
		for op := range w.ops {
			if w.failed() != nil {
				continue // drain: the sync fails anyway
			}
			if err := op(ctx); err != nil {
				w.mu.Lock()
				w.err = fmt.Errorf("raw store: %w", err)
				w.mu.Unlock()
			}
		}
	}()
	return w
}

func (w *rawWriter) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// do queues a write; it returns the writer's first error instead once there is one, so
// the scan stops early.
func (w *rawWriter) do(ctx context.Context, op func(context.Context) error) error {
	if err := w.failed(); err != nil {
		return err
	}
	select {
	case w.ops <- op:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wait lets every queued write finish and returns the first error. Nothing may be queued
// after it.
func (w *rawWriter) wait() error {
	close(w.ops)
	<-w.done
	return w.failed()
}
