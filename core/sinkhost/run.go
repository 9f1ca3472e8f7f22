package sinkhost

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinkpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// run is the run a sink was begun with.
type run struct {
	kind    sink.RunKind
	id      string
	started time.Time
	// legacy is set when the plugin predates runs (it answered Begin with
	// UNIMPLEMENTED): it writes as it always has and Close ends its run.
	legacy bool
	// changes is set when the plugin took the sync as changes only (BeginChanges), and
	// unchanged when it was offered as one with no changes.
	changes, unchanged bool
}

// runError is a failure to resume a run in a restarted plugin: restarting again would
// not help (a sink that lost what it had staged for the run refuses to resume it).
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }
func (e *runError) Unwrap() error { return e.err }

// abortTimeout bounds how long a failed run waits for the plugin to abort it.
const abortTimeout = 10 * time.Second

// newRunID names a run: when it started, and random bits so two runs never share a name.
func newRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// Takes reports whether the sink writes events of any of these kinds, as the plugin
// said when it was configured (a plugin that did not say takes every kind).
func (s *Sink) Takes(kinds ...event.Kind) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accepts == nil {
		return true
	}
	for _, k := range kinds {
		if s.accepts[k] {
			return true
		}
	}
	return false
}

// setAccepts records the event kinds the plugin said it writes.
func (s *Sink) setAccepts(kinds []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(kinds) == 0 {
		s.accepts = nil
		return
	}
	s.accepts = map[event.Kind]bool{}
	for _, k := range kinds {
		s.accepts[event.Kind(k)] = true
	}
}

// Begin starts a run of this kind: what Write sends belongs to it; Close commits it
// and AbortRun aborts it. A plugin that predates runs is run as before.
func (s *Sink) Begin(ctx context.Context, kind sink.RunKind) error {
	_, err := s.begin(ctx, kind, false, false)
	return err
}

// BeginChanges starts a sync offering the plugin a run of changes only (the assets that
// changed since the output's last committed sync; unchanged: none); it reports whether
// the plugin took it. A plugin that did not (or predates the offer) must be sent every
// asset.
func (s *Sink) BeginChanges(ctx context.Context, unchanged bool) (bool, error) {
	return s.begin(ctx, sink.RunSync, true, unchanged)
}

func (s *Sink) begin(ctx context.Context, kind sink.RunKind, offer, unchanged bool) (bool, error) {
	s.mu.Lock()
	if s.run != nil {
		s.mu.Unlock()
		return false, fmt.Errorf("output %q: a run is already open", s.Name())
	}
	now := time.Now()
	r := &run{kind: kind, id: newRunID(now), started: now, unchanged: offer && unchanged}
	in := s.inst
	s.mu.Unlock()
	resp, err := in.rpc.Begin(ctx, &sinkpb.BeginRequest{Kind: kind.ToProto(), RunId: r.id, StartedAtUnixNano: now.UnixNano(), ChangesOnly: offer, Unchanged: r.unchanged})
	if status.Code(err) == codes.Unimplemented {
		r.legacy, err = true, nil
		s.log.Debug("the sink plugin predates runs: it writes as it always has", "run", kind.String())
	}
	if err != nil {
		return false, fmt.Errorf("output %q: beginning the %s run: %w", s.Name(), kind, grpcErr(err))
	}
	r.changes = offer && resp.GetTakesChanges()
	s.mu.Lock()
	s.run = r
	s.mu.Unlock()
	return r.changes, nil
}

// resumeRun begins the open run again in a restarted plugin, before the unacknowledged
// batches are sent again.
func (s *Sink) resumeRun(ctx context.Context, rpc sinkpb.SinkClient) error {
	s.mu.Lock()
	r := s.run
	s.mu.Unlock()
	if r == nil || r.legacy {
		return nil
	}
	resp, err := rpc.Begin(ctx, &sinkpb.BeginRequest{Kind: r.kind.ToProto(), RunId: r.id, Resume: true, StartedAtUnixNano: r.started.UnixNano(), ChangesOnly: r.changes, Unchanged: r.changes && r.unchanged})
	if err != nil {
		return &runError{fmt.Errorf("output %q: resuming the %s run in the restarted plugin: %w", s.Name(), r.kind, grpcErr(err))}
	}
	if r.changes && !resp.GetTakesChanges() {
		// The run so far sent only changes; a plugin that now wants every asset would
		// replace its output with them.
		return &runError{fmt.Errorf("output %q: the restarted plugin no longer takes this sync as changes only, and the assets sent before it failed were only the changed ones", s.Name())}
	}
	return nil
}

// commitRun commits the open run, once every batch was acknowledged and the stream
// ended. A commit is never tried twice: the plugin may have replaced its output before
// it failed, so the output holds either its previous or its new content, never a mix.
func (s *Sink) commitRun(ctx context.Context, in *instance) error {
	s.mu.Lock()
	r := s.run
	s.run = nil
	s.mu.Unlock()
	if r == nil || r.legacy {
		return nil
	}
	if _, err := in.rpc.Commit(ctx, &sinkpb.CommitRequest{}); err != nil {
		return &runError{fmt.Errorf("output %q: committing the %s run: %w", s.Name(), r.kind, grpcErr(err))}
	}
	return nil
}

// AbortRun ends the open run as failed, telling the plugin why, so an output the run
// would have replaced stays as it was; then it ends the plugin process. A plugin that
// cannot be told (it died) left only its unfinished files, which its outputs ignore.
func (s *Sink) AbortRun(ctx context.Context, cause error) {
	s.mu.Lock()
	r, in := s.run, s.inst
	s.run = nil
	s.mu.Unlock()
	if r != nil && !r.legacy && in != nil {
		select {
		case <-in.dead:
		default:
			reason := "aborted"
			if cause != nil {
				reason = cause.Error()
			}
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
			if _, err := in.rpc.Abort(actx, &sinkpb.AbortRequest{Reason: reason}); err != nil {
				s.log.Warn("the sink plugin did not abort its run; its unfinished output is left for the next run to discard",
					"run", r.kind.String(), "error", grpcErr(err))
			} else {
				// Let it release what it holds (a database closes cleanly) before it ends.
				_, _ = in.rpc.Close(actx, &sinkpb.CloseRequest{})
			}
			cancel()
		}
	}
	s.Abort()
}

// isRunError reports whether err is a run failure that restarting cannot mend.
func isRunError(err error) bool {
	var re *runError
	return errors.As(err, &re)
}
