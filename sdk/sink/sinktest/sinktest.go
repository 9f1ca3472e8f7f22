// Package sinktest runs a sink in-process against a recorded stream of events, for the
// sink's own tests. The events travel through the kit's real protocol server over an
// in-memory gRPC connection, so a test sees what the sink sees under pbisync.
//
// A recorded stream is a JSON Lines file of events, as the jsonl sink writes it.
package sinktest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinkpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// Options say how to run the sink.
type Options struct {
	// Name is the output's name (default "test").
	Name string
	// Config is the sink's config section as JSON (default {}).
	Config string
	// BatchSize is the most events per batch (default 500).
	BatchSize int
	// Resume configures the sink as if restarted within a run.
	Resume bool
	// Kind is the run's kind (default sink.RunSync); RunID names it (default "test").
	Kind  sink.RunKind
	RunID string
	// AbortWith, when set, aborts the run with this reason after the last batch
	// instead of committing it.
	AbortWith string
	// LegacyHost drives the sink as a host that predates runs does: no Begin, no
	// Commit, only Close.
	LegacyHost bool
	// Stdout receives what the sink writes to pbisync's standard output.
	Stdout io.Writer
	// Logger receives the sink's logs (default: discarded).
	Logger *slog.Logger
}

// ConfigErrors is returned when the sink rejects its config.
type ConfigErrors []*sink.ConfigError

func (e ConfigErrors) Error() string {
	var msgs []string
	for _, ce := range e {
		msgs = append(msgs, ce.Error())
	}
	return "config: " + strings.Join(msgs, "; ")
}

// Run configures s, begins a run, streams events in batches, checks every
// acknowledgement, commits (or aborts) the run and closes the sink.
func Run(ctx context.Context, s sink.Sink, opts Options, events []event.Event) error {
	if opts.Name == "" {
		opts.Name = "test"
	}
	if opts.Config == "" {
		opts.Config = "{}"
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(sink.ServerOptions()...)
	sinkpb.RegisterSinkServer(srv, sink.NewServer(s, opts.Stdout, opts.Logger))
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	conn, err := grpc.NewClient("passthrough:///sinktest",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(sink.MaxMessageBytes)))
	if err != nil {
		return err
	}
	defer conn.Close()
	c := sinkpb.NewSinkClient(conn)
	resp, err := c.Configure(ctx, &sinkpb.ConfigureRequest{Name: opts.Name, ConfigJson: []byte(opts.Config), Resume: opts.Resume, Attempt: boolToAttempt(opts.Resume)})
	if err != nil {
		return fmt.Errorf("configure: %w", plain(err))
	}
	if len(resp.GetErrors()) > 0 {
		var ce ConfigErrors
		for _, e := range resp.GetErrors() {
			ce = append(ce, &sink.ConfigError{Path: e.GetPath(), Msg: e.GetMessage()})
		}
		return ce
	}
	if !opts.LegacyHost {
		if opts.Kind == sink.RunUnspecified {
			opts.Kind = sink.RunSync
		}
		if opts.RunID == "" {
			opts.RunID = "test"
		}
		if _, err := c.Begin(ctx, &sinkpb.BeginRequest{Kind: opts.Kind.ToProto(), RunId: opts.RunID, Resume: opts.Resume}); err != nil {
			return fmt.Errorf("begin: %w", plain(err))
		}
	}
	stream, err := c.Write(ctx)
	if err != nil {
		return plain(err)
	}
	var seq uint64
	for len(events) > 0 {
		n := min(len(events), opts.BatchSize)
		b := &sinkpb.Batch{}
		for i := range events[:n] {
			pe, err := sink.EventToProto(&events[i])
			if err != nil {
				return fmt.Errorf("event %d: %w", i, err)
			}
			b.Events = append(b.Events, pe)
		}
		events = events[n:]
		seq++
		b.Seq = seq
		if err := stream.Send(&sinkpb.WriteRequest{Batch: b}); err != nil {
			_, rerr := stream.Recv()
			return fmt.Errorf("batch %d: %w", seq, plain(errors.Join(rerr, err)))
		}
		ack, err := stream.Recv()
		if err != nil {
			return fmt.Errorf("batch %d: %w", seq, plain(err))
		}
		if ack.GetSeq() != seq {
			return fmt.Errorf("batch %d acknowledged as %d", seq, ack.GetSeq())
		}
	}
	if err := stream.CloseSend(); err != nil {
		return plain(err)
	}
	if _, err := stream.Recv(); err != io.EOF {
		return fmt.Errorf("write stream did not end cleanly: %w", plain(err))
	}
	switch {
	case opts.LegacyHost:
	case opts.AbortWith != "":
		if _, err := c.Abort(ctx, &sinkpb.AbortRequest{Reason: opts.AbortWith}); err != nil {
			return fmt.Errorf("abort: %w", plain(err))
		}
	default:
		if _, err := c.Commit(ctx, &sinkpb.CommitRequest{}); err != nil {
			return fmt.Errorf("commit: %w", plain(err))
		}
	}
	if _, err := c.Close(ctx, &sinkpb.CloseRequest{}); err != nil {
		return plain(err)
	}
	return nil
}

func boolToAttempt(resume bool) uint32 {
	if resume {
		return 1
	}
	return 0
}

func plain(err error) error {
	if st, ok := status.FromError(err); ok {
		return errors.New(st.Message())
	}
	return err
}

// ReadEvents reads a recorded stream: one JSON event per line; blank lines are skipped.
func ReadEvents(r io.Reader) ([]event.Event, error) {
	var out []event.Event
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var e event.Event
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// LoadEvents reads a recorded stream from a file.
func LoadEvents(path string) ([]event.Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	evs, err := ReadEvents(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return evs, nil
}

// ServeIfPlugin lets a test binary stand in for pbisync's plugin mode: run as
// `<test binary> plugin sink NAME`, as the sink host runs built-in sinks, it serves that
// sink and exits; otherwise it returns and the tests run. Call it first in TestMain.
func ServeIfPlugin(sinks map[string]func() sink.Sink) {
	if len(os.Args) != 4 || os.Args[1] != "plugin" || os.Args[2] != "sink" {
		return
	}
	newSink, ok := sinks[os.Args[3]]
	if !ok {
		fmt.Fprintf(os.Stderr, "this test binary does not serve the sink %q\n", os.Args[3])
		os.Exit(2)
	}
	sink.Serve(newSink())
	os.Exit(0)
}
