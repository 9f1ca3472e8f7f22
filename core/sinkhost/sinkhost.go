// Package sinkhost runs sink plugins: it starts each configured output as a separate
// process through hashicorp/go-plugin, streams it batches of events with a bounded
// window of unacknowledged batches, restarts it when it fails and sends it the
// unacknowledged batches again (delivery is at least once), and ends it on every
// exit path.
package sinkhost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinkpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"gopkg.in/yaml.v3"
)

// Options are the host's settings, shared by every output.
type Options struct {
	// Executable runs built-in sinks as `Executable plugin sink <name>`. Empty means
	// the running binary (os.Executable), which is pbisync itself.
	Executable string
	// BaseDir resolves relative plugin paths; empty means the pipeline file's folder.
	BaseDir string
	// Logger receives the host's and the plugins' logs. Nil means slog.Default().
	Logger *slog.Logger
	// Stdout is where sinks that write to standard output write. Nil means os.Stdout.
	Stdout io.Writer
}

// Status says how far delivery to one sink went.
type Status struct {
	Name      string
	Batches   uint64 // batches sent
	Events    int64  // events sent
	Acked     uint64 // the last acknowledged batch
	Delivered int64  // events in acknowledged batches
	Restarts  int
	Resent    int // batches sent again to a restarted sink
	// Complete is set when the sink acknowledged every event and closed cleanly:
	// it received everything.
	Complete bool
	Err      error
}

// Sink is one configured output, running as a plugin process. It satisfies the
// engine's Sink interface. Write and Close must not be called concurrently.
type Sink struct {
	launch *launch
	opts   Options
	log    *slog.Logger

	mu       sync.Mutex
	inst     *instance
	pending  []pendingBatch // unacknowledged, in order
	nextSeq  uint64
	lastAck  uint64
	sent     int64
	acked    int64
	restarts int
	resent   int
	failed   error // sticky: the sink gave up
	closed   bool
	complete bool
	wake     chan struct{} // signalled on every ack and on a stream's end
	progress time.Time     // last ack, or the send that made the window non-empty
	run      *run          // the open run (Begin), nil when none
	accepts  map[event.Kind]bool
}

type pendingBatch struct {
	seq uint64
	n   int
	req *encodedRequest
}

// New starts the output described by one `outputs:` entry and configures it. Errors
// in the entry, or in the sink's own config as the plugin reports them, name the
// place in the YAML.
func New(ctx context.Context, entry config.Node, opts Options) (*Sink, error) {
	if opts.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("finding pbisync's own binary to run built-in sinks: %w", err)
		}
		opts.Executable = exe
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	l, err := decodeEntry(entry, opts)
	if err != nil {
		return nil, err
	}
	s := &Sink{launch: l, opts: opts, log: opts.Logger.With("sink", l.name), wake: make(chan struct{}, 1)}
	in, err := s.start(ctx, 0)
	if err != nil {
		return nil, err
	}
	s.inst = in
	return s, nil
}

// NewAll starts every entry of an `outputs:` list. When one fails, those already
// started are ended and the error is returned.
func NewAll(ctx context.Context, outputs config.Node, opts Options) ([]*Sink, error) {
	if outputs.Node == nil {
		return nil, nil
	}
	if outputs.Kind != yaml.SequenceNode {
		return nil, config.Errorf(outputs, "outputs must be a list")
	}
	seen := map[string]config.Pos{}
	var out []*Sink
	for _, c := range outputs.Content {
		s, err := New(ctx, config.Node{Node: c, File: outputs.File}, opts)
		if err == nil {
			if p, dup := seen[s.Name()]; dup {
				err = config.Errorf(config.Node{Node: c, File: outputs.File}, "output name %q is already used at %s", s.Name(), p)
				s.Abort()
			}
			seen[s.Name()] = config.Node{Node: c, File: outputs.File}.Pos()
		}
		if err != nil {
			for _, o := range out {
				o.Abort()
			}
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Name returns the output's name.
func (s *Sink) Name() string { return s.launch.name }

// PID returns the process id of the running plugin, or 0.
func (s *Sink) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inst == nil {
		return 0
	}
	return s.inst.pid
}

// TakesEncoded tells the engine that the sink sends spec events in the sink protocol's
// encoding (sdk/sink.EventBytesShared).
func (s *Sink) TakesEncoded() bool { return true }

// Write sends events in batches. It returns once they are sent, not acknowledged;
// it blocks while the window of unacknowledged batches is full.
func (s *Sink) Write(ctx context.Context, events []event.Event) error {
	if err := s.usable(); err != nil {
		return err
	}
	for off := 0; off < len(events); {
		n := min(len(events)-off, s.launch.batchSize)
		enc := make([][]byte, 0, n)
		size := 0
		i := off
		for ; i < off+n && (i == off || size < batchBytes); i++ {
			// The encoding is shared with the other outputs and the estate: each
			// event is encoded once, and sent as those bytes.
			b, err := sink.EventBytesShared(&events[i])
			if err != nil {
				return fmt.Errorf("output %q: event %d of %d: %w", s.Name(), i, len(events), err)
			}
			enc = append(enc, b)
			size += len(b)
		}
		off = i
		if err := s.send(ctx, enc); err != nil {
			return err
		}
	}
	return nil
}

// batchBytes ends a batch of Write early: the window (windowBytes) then holds several
// batches of large models, so the plugin acknowledges, and the host sends, a part at
// a time, not one batch that fills it.
const batchBytes = 2 << 20

// WriteEncoded sends events already encoded in the protocol (the estate keeps spec
// events so, for outputs fed from it): nothing is converted or copied. They must be
// sdk/sink.EventBytes's, as the plugin is told their json values are (json_canonical).
func (s *Sink) WriteEncoded(ctx context.Context, events [][]byte) error {
	if err := s.usable(); err != nil {
		return err
	}
	for off := 0; off < len(events); {
		n := min(len(events)-off, s.launch.batchSize)
		if err := s.send(ctx, events[off:off+n:off+n]); err != nil {
			return err
		}
		off += n
	}
	return nil
}

func (s *Sink) usable() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed != nil {
		return s.failed
	}
	if s.closed {
		return fmt.Errorf("output %q: write after close", s.Name())
	}
	return nil
}

// send sends one batch of encoded events: it is numbered and written as its
// WriteRequest's bytes, which a restart sends again as they are.
func (s *Sink) send(ctx context.Context, events [][]byte) error {
	if err := s.waitWindow(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	s.nextSeq++
	parts, size := sink.WriteRequestParts(s.nextSeq, events)
	req := &encodedRequest{parts: parts, size: size}
	pb := pendingBatch{seq: s.nextSeq, n: len(events), req: req}
	if len(s.pending) == 0 {
		s.progress = time.Now()
	}
	s.pending = append(s.pending, pb)
	s.sent += int64(pb.n)
	in := s.inst
	s.mu.Unlock()
	if !in.enqueue(pb.req) {
		// The batch is pending: recovery sends it again.
		return s.recover(ctx, in, streamErr(in))
	}
	return nil
}

// streamErr is why an instance's stream ended, as the receiver learned it.
func streamErr(in *instance) error {
	select {
	case <-in.dead:
		return in.err
	case <-time.After(time.Second):
		return errors.New("the write stream broke")
	}
}

// windowBytes bounds the encoded size of the batches a plugin has not acknowledged.
const windowBytes = 8 << 20

// pendingBytes is the encoded size of the unacknowledged batches; s.mu is held.
func (s *Sink) pendingBytes() int {
	n := 0
	for _, pb := range s.pending {
		n += pb.req.size
	}
	return n
}

// waitWindow blocks until a batch may be sent, restarting a dead plugin on the way.
func (s *Sink) waitWindow(ctx context.Context) error {
	for {
		s.mu.Lock()
		n, held, in := len(s.pending), s.pendingBytes(), s.inst
		s.mu.Unlock()
		select {
		case <-in.dead:
			if err := s.recover(ctx, in, in.err); err != nil {
				return err
			}
			continue
		default:
		}
		// The window is counted in batches and bounded by bytes: a few batches of
		// large models are as much as many of reports.
		if n == 0 || (n < s.launch.window && held < windowBytes) {
			return nil
		}
		stall, stop := s.stallTimer()
		select {
		case <-s.wake:
		case <-in.dead:
		case <-stall:
			if err := s.recover(ctx, in, s.stalled()); err != nil {
				stop()
				return err
			}
		case <-ctx.Done():
			stop()
			return fmt.Errorf("output %q: %w", s.Name(), ctx.Err())
		}
		stop()
	}
}

// stallTimer fires when the sink has acknowledged nothing for the ack timeout while
// batches wait: a hung plugin is then restarted like a crashed one.
func (s *Sink) stallTimer() (<-chan time.Time, func()) {
	if s.launch.ackTimeout <= 0 {
		return nil, func() {}
	}
	s.mu.Lock()
	wait := time.Until(s.progress.Add(s.launch.ackTimeout))
	s.mu.Unlock()
	t := time.NewTimer(max(wait, 0))
	return t.C, func() { t.Stop() }
}

// ackDeadline fires after the ack timeout (never when it is off).
func (s *Sink) ackDeadline() (<-chan time.Time, func()) {
	if s.launch.ackTimeout <= 0 {
		return nil, func() {}
	}
	t := time.NewTimer(s.launch.ackTimeout)
	return t.C, func() { t.Stop() }
}

func (s *Sink) stalled() error {
	return fmt.Errorf("the sink acknowledged nothing for %s (ack_timeout)", s.launch.ackTimeout)
}

func (s *Sink) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Sink) onAck(seq uint64) {
	s.mu.Lock()
	i := 0
	for i < len(s.pending) && s.pending[i].seq <= seq {
		s.acked += int64(s.pending[i].n)
		i++
	}
	s.pending = s.pending[i:]
	s.progress = time.Now()
	if seq > s.lastAck {
		s.lastAck = seq
	}
	s.mu.Unlock()
	s.notify()
}

// recover replaces a failed plugin process with a new one and sends it every
// unacknowledged batch, within the restart budget.
func (s *Sink) recover(ctx context.Context, failed *instance, cause error) error {
	for {
		s.mu.Lock()
		if s.failed != nil {
			s.mu.Unlock()
			return s.failed
		}
		if s.inst != failed {
			s.mu.Unlock()
			return nil // already replaced
		}
		lastAck, restarts := s.lastAck, s.restarts
		s.mu.Unlock()
		failed.kill()
		why := describe(cause)
		if restarts >= s.launch.restarts {
			err := fmt.Errorf("output %q: the sink plugin failed after acknowledging batch %d: %s (gave up after %d restart(s))",
				s.Name(), lastAck, why, restarts)
			s.mu.Lock()
			s.failed = err
			s.mu.Unlock()
			return err
		}
		s.log.Warn("sink plugin failed; restarting it and sending the unacknowledged batches again",
			"last_acked_batch", lastAck, "error", why, "restart", restarts+1, "max_restarts", s.launch.restarts)
		select {
		case <-time.After(backoff(restarts)):
		case <-ctx.Done():
			return fmt.Errorf("output %q: %w", s.Name(), ctx.Err())
		}
		s.mu.Lock()
		s.restarts++
		s.mu.Unlock()
		in, err := s.start(ctx, restarts+1)
		if err != nil {
			var ce *config.Error
			if errors.As(err, &ce) || isRunError(err) || ctx.Err() != nil {
				s.mu.Lock()
				s.failed = err
				s.mu.Unlock()
				return err
			}
			cause = err
			continue
		}
		s.mu.Lock()
		s.inst = in
		s.progress = time.Now()
		replay := append([]pendingBatch(nil), s.pending...)
		s.resent += len(replay)
		s.mu.Unlock()
		failed = in
		ok := true
		for _, pb := range replay {
			if ok = in.enqueue(pb.req); !ok {
				break
			}
		}
		if !ok {
			cause = streamErr(in)
			continue
		}
		return nil
	}
}

func backoff(restarts int) time.Duration {
	d := 100 * time.Millisecond << restarts
	return min(d, 2*time.Second)
}

// describe renders why a plugin failed: the plugin's own message when it sent one.
func describe(err error) string {
	if err == nil {
		return "the write stream ended before the sink was closed"
	}
	return grpcErr(err).Error()
}

// grpcErr strips gRPC's "rpc error: code = ... desc =" wrapping from a plugin's error,
// and names a broken connection as the crash it usually is.
func grpcErr(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.Unavailable, codes.Canceled:
		return fmt.Errorf("the plugin process exited or closed the connection (%s)", st.Message())
	}
	return errors.New(st.Message())
}

// Close waits until every batch is acknowledged, closes the stream, commits the open
// run, asks the sink to flush and ends the plugin process. The process is ended
// whatever happens.
func (s *Sink) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return s.failed
	}
	s.closed = true
	s.mu.Unlock()
	err := s.drainAndClose(ctx)
	s.mu.Lock()
	in := s.inst
	if err != nil && s.failed == nil {
		s.failed = err
	}
	s.complete = err == nil && len(s.pending) == 0
	s.mu.Unlock()
	if in != nil {
		in.kill()
	}
	return err
}

// Abort ends the plugin process without flushing (AbortRun tells it first).
func (s *Sink) Abort() {
	s.mu.Lock()
	s.closed = true
	if s.failed == nil {
		s.failed = fmt.Errorf("output %q: aborted", s.Name())
	}
	in := s.inst
	s.mu.Unlock()
	if in != nil {
		in.kill()
	}
}

func (s *Sink) drainAndClose(ctx context.Context) error {
	for {
		s.mu.Lock()
		if s.failed != nil {
			s.mu.Unlock()
			return s.failed
		}
		n, in := len(s.pending), s.inst
		s.mu.Unlock()
		if n > 0 {
			stall, stop := s.stallTimer()
			select {
			case <-s.wake:
			case <-in.dead:
				if err := s.recover(ctx, in, in.err); err != nil {
					stop()
					return err
				}
			case <-stall:
				if err := s.recover(ctx, in, s.stalled()); err != nil {
					stop()
					return err
				}
			case <-ctx.Done():
				stop()
				return fmt.Errorf("output %q: closing with %d unacknowledged batch(es): %w", s.Name(), n, ctx.Err())
			}
			stop()
			continue
		}
		// Everything is acknowledged: end the stream, then flush. Both waits have the
		// ack timeout as their deadline: a plugin frozen now is restarted and closed again.
		in.closeSend()
		ended, stop := s.ackDeadline()
		select {
		case <-in.dead:
			stop()
		case <-ended:
			if err := s.recover(ctx, in, fmt.Errorf("the sink did not end its write stream within %s (ack_timeout)", s.launch.ackTimeout)); err != nil {
				return err
			}
			continue
		case <-ctx.Done():
			stop()
			return fmt.Errorf("output %q: closing: %w", s.Name(), ctx.Err())
		}
		var err error
		if in.err == nil {
			if err := s.commitRun(ctx, in); err != nil {
				return err
			}
			cctx, cancel := ctx, context.CancelFunc(func() {})
			if s.launch.ackTimeout > 0 {
				cctx, cancel = context.WithTimeout(ctx, s.launch.ackTimeout)
			}
			_, err = in.rpc.Close(cctx, &sinkpb.CloseRequest{})
			timedOut := cctx.Err() != nil && ctx.Err() == nil
			cancel()
			if err == nil {
				return nil
			}
			if st, ok := status.FromError(err); ok && st.Code() == codes.Aborted {
				return fmt.Errorf("output %q: %s", s.Name(), st.Message())
			}
			if timedOut {
				err = fmt.Errorf("the sink did not finish closing within %s (ack_timeout)", s.launch.ackTimeout)
			}
		} else {
			err = in.err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("output %q: closing: %w", s.Name(), ctx.Err())
		}
		// The plugin died while closing: restart it (nothing to resend) and close again.
		if rerr := s.recover(ctx, in, err); rerr != nil {
			return rerr
		}
	}
}

// Status reports how far delivery went. After Close, Complete says whether the sink
// received everything.
func (s *Sink) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Status{
		Name: s.Name(), Batches: s.nextSeq, Events: s.sent, Acked: s.lastAck, Delivered: s.acked,
		Restarts: s.restarts, Resent: s.resent, Complete: s.complete, Err: s.failed,
	}
}
