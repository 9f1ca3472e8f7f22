package sinkhost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/plugins/sinks/jsonl"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinktest"
)

// TestMain doubles as the plugin binary: the host re-executes the test binary as
// `<test> plugin sink <name>`, as pbisync re-executes itself, and as a parent process
// for the orphan test.
func TestMain(m *testing.M) {
	sinktest.ServeIfPlugin(testSinks)
	if len(os.Args) >= 3 && os.Args[1] == "parent" {
		os.Exit(runParent(os.Args[2]))
	}
	os.Exit(m.Run())
}

var testSinks = map[string]func() sink.Sink{
	"noop":  func() sink.Sink { return &noopSink{} },
	"jsonl": func() sink.Sink { return jsonl.NewRaw() },
	// crashy is jsonl that exits abruptly while writing batch CRASH_AT_BATCH (counted
	// from 1 in each process), unless resumed after a restart.
	"crashy": func() sink.Sink { return &crashySink{Sink: jsonl.New()} },
	// poison fails every batch holding an event whose key is ["poison"].
	"poison": func() sink.Sink { return &poisonSink{} },
	// sleepy is jsonl that hangs in its second batch, unless resumed after a restart.
	"sleepy": func() sink.Sink { return &sleepySink{Sink: jsonl.New()} },
	// hangconfig never answers Configure.
	"hangconfig": func() sink.Sink { return &hangSink{inConfigure: true} },
	// hangclose is jsonl whose Close hangs, unless resumed after a restart.
	"hangclose": func() sink.Sink { return &hangSink{Sink: jsonl.New()} },
	// strict checks its config like a real sink and logs a line.
	"strict": func() sink.Sink { return &strictSink{} },
}

type noopSink struct{ n int }

func (s *noopSink) Configure(context.Context, sink.Config) error { return nil }
func (s *noopSink) WriteBatch(_ context.Context, ev []event.Event) error {
	s.n += len(ev)
	return nil
}
func (s *noopSink) Close(context.Context) error { return nil }

type crashySink struct {
	*jsonl.Sink
	resume  bool
	batches int
	at      int
}

func (s *crashySink) Configure(ctx context.Context, c sink.Config) error {
	s.resume = c.Resume
	s.at, _ = strconv.Atoi(os.Getenv("CRASH_AT_BATCH"))
	return s.Sink.Configure(ctx, c)
}

func (s *crashySink) WriteBatch(ctx context.Context, ev []event.Event) error {
	s.batches++
	if !s.resume && s.batches == s.at {
		// Write half the batch, then die as a crash would: no flush, no goodbye.
		_ = s.Sink.WriteBatch(ctx, ev[:len(ev)/2])
		os.Exit(9)
	}
	return s.Sink.WriteBatch(ctx, ev)
}

type poisonSink struct{ noopSink }

func (s *poisonSink) WriteBatch(_ context.Context, ev []event.Event) error {
	for _, e := range ev {
		if e.Spec != nil && e.Spec.Key.String() == "poison" {
			return errors.New("this catalog rejects the asset poison")
		}
	}
	return nil
}

type strictSink struct{ noopSink }

type strictConfig struct {
	URL     string `json:"url" required:"true"`
	Retries int    `json:"retries"`
	Tables  []struct {
		Name string `json:"name" required:"true"`
	} `json:"tables"`
}

func (s *strictSink) Configure(_ context.Context, c sink.Config) error {
	var cfg strictConfig
	if err := c.Decode(&cfg); err != nil {
		return err
	}
	if cfg.Retries > 10 {
		return sink.ConfigErrorf("retries", "at most 10 retries, got %d", cfg.Retries)
	}
	c.Logger.Info("strict sink configured", "url", cfg.URL)
	return nil
}

// runParent starts the output in file and prints the plugin's pid, then waits to be killed.
func runParent(file string) int {
	data, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	root, err := config.Parse(file, data)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s, err := New(context.Background(), root, Options{Executable: os.Args[0], Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("%d\n", s.PID())
	time.Sleep(time.Minute)
	return 0
}

type sleepySink struct {
	*jsonl.Sink
	resume  bool
	batches int
}

func (s *sleepySink) Configure(ctx context.Context, c sink.Config) error {
	s.resume = c.Resume
	return s.Sink.Configure(ctx, c)
}

func (s *sleepySink) WriteBatch(ctx context.Context, ev []event.Event) error {
	s.batches++
	if !s.resume && s.batches == 2 {
		time.Sleep(time.Hour) // a catalog that stopped answering
	}
	return s.Sink.WriteBatch(ctx, ev)
}

type hangSink struct {
	*jsonl.Sink
	inConfigure bool
	resume      bool
}

func (s *hangSink) Configure(ctx context.Context, c sink.Config) error {
	if s.inConfigure {
		time.Sleep(time.Hour)
	}
	s.resume = c.Resume
	return s.Sink.Configure(ctx, c)
}

func (s *hangSink) Close(ctx context.Context) error {
	if !s.resume {
		time.Sleep(time.Hour) // a flush that never ends
	}
	return s.Sink.Close(ctx)
}
