package sink

import (
	"context"
	"io"
	"log/slog"
	"sync"

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
	lastSeq    uint64
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
		s.configured = true
		return &sinkpb.ConfigureResponse{}, nil
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
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.writeBatch(ctx, req.GetBatch()); err != nil {
			return err
		}
		if err := stream.Send(&sinkpb.Ack{Seq: req.GetBatch().GetSeq()}); err != nil {
			return err
		}
	}
}

func (s *server) writeBatch(ctx context.Context, b *sinkpb.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.configured {
		return status.Error(codes.FailedPrecondition, "write before a successful configure")
	}
	events := make([]event.Event, len(b.GetEvents()))
	for i, pe := range b.GetEvents() {
		e, err := EventFromProto(pe)
		if err != nil {
			return status.Errorf(codes.InvalidArgument, "batch %d, event %d: %v", b.GetSeq(), i, err)
		}
		events[i] = e
	}
	if err := s.impl.WriteBatch(ctx, events); err != nil {
		return status.Errorf(codes.Aborted, "batch %d: %v", b.GetSeq(), err)
	}
	s.lastSeq = b.GetSeq()
	return nil
}

func (s *server) Close(ctx context.Context, _ *sinkpb.CloseRequest) (*sinkpb.CloseResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.configured {
		return &sinkpb.CloseResponse{}, nil
	}
	if err := s.impl.Close(ctx); err != nil {
		return nil, status.Errorf(codes.Aborted, "close: %v", err)
	}
	s.configured = false
	return &sinkpb.CloseResponse{}, nil
}
