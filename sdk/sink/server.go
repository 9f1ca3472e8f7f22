package sink

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink/sinkpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// server adapts a Sink to the protocol.
type server struct {
	sinkpb.UnimplementedSinkServer
	impl   Sink
	stdout io.Writer
	logger *slog.Logger

	mu         sync.Mutex // the protocol is sequential; this guards against a misbehaving host
	configured bool
	resume     bool // Configure said resume
	canonical  bool // Configure said json_canonical
	lastSeq    uint64
	// inRun is set between Begin and Commit or Abort; implicit marks a run the kit
	// began itself, for a host that predates runs, which Close commits.
	inRun, implicit bool
	// explicit is set once the host began a run: it speaks runs, so a batch outside
	// one (after an abort, say) is refused rather than given a run of its own.
	explicit bool
	runs     int
}

// NewServer returns the protocol server for s. Stdout and logger are handed to the sink
// in its Config; nil means discard.
func NewServer(s Sink, stdout io.Writer, logger *slog.Logger) sinkpb.SinkServer {
	if stdout == nil {
		stdout = io.Discard
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &server{impl: s, stdout: stdout, logger: logger}
}

func (s *server) Configure(ctx context.Context, req *sinkpb.ConfigureRequest) (*sinkpb.ConfigureResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := Config{Name: req.GetName(), Raw: req.GetConfigJson(), Resume: req.GetResume(), Stdout: s.stdout, Logger: s.logger}
	err := s.impl.Configure(ctx, cfg)
	if err == nil {
		s.configured, s.resume, s.canonical = true, req.GetResume(), req.GetJsonCanonical()
		resp := &sinkpb.ConfigureResponse{}
		if sel, ok := s.impl.(Selective); ok {
			for _, k := range sel.Accepts() {
				resp.Accepts = append(resp.Accepts, string(k))
			}
		}
		return resp, nil
	}
	return configResponse(err), nil
}

// flatten expands errors.Join trees so each config problem is reported.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

func (s *server) Write(stream sinkpb.Sink_WriteServer) error {
	ctx := stream.Context()
	_, rawJSON := s.impl.(RawJSONMetadata)
	rawWriter, _ := s.impl.(RawBatchWriter)
	s.mu.Lock()
	canonical := s.canonical
	s.mu.Unlock()
	for {
		// Received as its bytes where the server's codec allows (ServerOptions), and
		// decoded straight into events; else parsed as a WriteRequest.
		var req rawWriteRequest
		err := stream.RecvMsg(&req)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if rawWriter != nil {
			seq, events, err := rawEvents(&req, rawJSON, canonical)
			if err != nil {
				return status.Error(codes.InvalidArgument, err.Error())
			}
			if err := s.writeRawBatch(ctx, rawWriter, seq, events); err != nil {
				return err
			}
			if err := stream.Send(&sinkpb.Ack{Seq: seq}); err != nil {
				return err
			}
			continue
		}
		seq, events, err := batchOf(&req, rawJSON)
		if err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		if err := s.writeBatch(ctx, seq, events); err != nil {
			return err
		}
		if err := stream.Send(&sinkpb.Ack{Seq: seq}); err != nil {
			return err
		}
	}
}

func (s *server) writeBatch(ctx context.Context, seq uint64, events []event.Event) error {
	return s.write(ctx, seq, func() error { return s.impl.WriteBatch(ctx, events) })
}

func (s *server) writeRawBatch(ctx context.Context, w RawBatchWriter, seq uint64, events []RawEvent) error {
	return s.write(ctx, seq, func() error { return w.WriteRawBatch(ctx, events) })
}

// write runs one batch's write, in the run the host began (or one the kit begins).
func (s *server) write(ctx context.Context, seq uint64, write func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.configured {
		return status.Error(codes.FailedPrecondition, "write before a successful configure")
	}
	if err := s.beginImplicit(ctx); err != nil {
		return err
	}
	if err := write(); err != nil {
		return status.Errorf(codes.Aborted, "batch %d: %v", seq, err)
	}
	s.lastSeq = seq
	return nil
}

func (s *server) Close(ctx context.Context, _ *sinkpb.CloseRequest) (*sinkpb.CloseResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.configured {
		return &sinkpb.CloseResponse{}, nil
	}
	if t, ok := s.impl.(Transactional); ok && s.inRun {
		// A run the kit began for an old host completes with Close, as such a host
		// expects; a run the host began and left open is abandoned.
		var err error
		if s.implicit {
			err = t.Commit(ctx)
		} else {
			err = t.Abort(ctx, "the host closed the sink without committing the run")
		}
		s.inRun, s.implicit = false, false
		if err != nil {
			return nil, status.Errorf(codes.Aborted, "close: %v", err)
		}
	}
	if err := s.impl.Close(ctx); err != nil {
		return nil, status.Errorf(codes.Aborted, "close: %v", err)
	}
	s.configured = false
	return &sinkpb.CloseResponse{}, nil
}

// beginImplicit begins a run for a host that sends batches without Begin (one that
// predates runs). Callers hold s.mu.
func (s *server) beginImplicit(ctx context.Context) error {
	t, ok := s.impl.(Transactional)
	if !ok || s.inRun {
		return nil
	}
	if s.explicit {
		return status.Error(codes.FailedPrecondition, "a batch outside a run: begin one first")
	}
	s.runs++
	run := Run{Kind: RunUnspecified, ID: implicitRunID(s.runs), Resume: s.resume, StartedAt: time.Now()}
	if err := t.Begin(ctx, run); err != nil {
		return status.Errorf(codes.Aborted, "begin: %v", err)
	}
	s.inRun, s.implicit = true, true
	return nil
}

// implicitRunID names a run the kit began itself: the same in every process, so a sink
// that an old host restarted with resume finds the files of its run again.
func implicitRunID(n int) string { return "run" + strconv.Itoa(n) }

func (s *server) Begin(ctx context.Context, req *sinkpb.BeginRequest) (*sinkpb.BeginResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.configured {
		return nil, status.Error(codes.FailedPrecondition, "begin before a successful configure")
	}
	if s.inRun {
		return nil, status.Error(codes.FailedPrecondition, "begin while a run is open: commit or abort it first")
	}
	s.lastSeq = 0
	s.explicit = true
	t, ok := s.impl.(Transactional)
	if !ok {
		return &sinkpb.BeginResponse{}, nil // a sink without runs writes as it always has
	}
	run := Run{Kind: RunKindFromProto(req.GetKind()), ID: req.GetRunId(), Resume: req.GetResume()}
	if ns := req.GetStartedAtUnixNano(); ns != 0 {
		run.StartedAt = time.Unix(0, ns)
	}
	if run.ID == "" {
		return nil, status.Error(codes.InvalidArgument, "begin: run_id is empty")
	}
	if req.GetChangesOnly() && run.Kind == RunSync {
		ct, ok := s.impl.(ChangesTaker)
		offer := run
		offer.ChangesOnly, offer.Unchanged = true, req.GetUnchanged()
		if ok && ct.TakesChanges(ctx, offer) {
			run = offer
		}
	}
	if err := t.Begin(ctx, run); err != nil {
		return nil, status.Errorf(codes.Aborted, "begin %s run: %v", run.Kind, err)
	}
	s.inRun, s.implicit = true, false
	return &sinkpb.BeginResponse{TakesChanges: run.ChangesOnly}, nil
}

func (s *server) Commit(ctx context.Context, _ *sinkpb.CommitRequest) (*sinkpb.CommitResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.impl.(Transactional)
	if !ok {
		return &sinkpb.CommitResponse{}, nil
	}
	if !s.inRun {
		return nil, status.Error(codes.FailedPrecondition, "commit without a run: call begin first")
	}
	s.inRun, s.implicit = false, false
	if err := t.Commit(ctx); err != nil {
		return nil, status.Errorf(codes.Aborted, "commit: %v", err)
	}
	return &sinkpb.CommitResponse{}, nil
}

func (s *server) Abort(ctx context.Context, req *sinkpb.AbortRequest) (*sinkpb.AbortResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.impl.(Transactional)
	if !ok || !s.inRun {
		return &sinkpb.AbortResponse{}, nil
	}
	s.inRun, s.implicit = false, false
	reason := req.GetReason()
	if reason == "" {
		reason = "the host aborted the run"
	}
	if err := t.Abort(ctx, reason); err != nil {
		return nil, status.Errorf(codes.Aborted, "abort: %v", err)
	}
	return &sinkpb.AbortResponse{}, nil
}
