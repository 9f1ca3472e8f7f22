package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/powerbi"
	"github.com/pbisync/pbisync/core/snapshot"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestEmulateCommand runs `pbisync emulate`, then syncs from it with the pipeline
// snippet it printed.
func TestEmulateCommand(t *testing.T) {
	t.Setenv("PBISYNC_TEST_EMU_SECRET", "")
	out := &syncBuffer{}
	g := &globals{stdout: out, stderr: io.Discard, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	fs := flag.NewFlagSet("emulate", flag.ContinueOnError)
	run := emulateCommand().flags(fs, g)
	if err := fs.Parse([]string{"--tenant", "generated", "--workspaces", "3", "--secret-env", "PBISYNC_TEST_EMU_SECRET", "--fault", "throttle:1@GET /admin/groups,retry-after=1s"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "client_secret: ${env:") {
		if time.Now().After(deadline) {
			t.Fatalf("no settings printed:\n%s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	text := out.String()
	// The snippet is the pipeline's powerbi section; decode it as the engine would.
	_, snippet, _ := strings.Cut(text, "      powerbi:\n")
	secretFile := regexp.MustCompile(`\$\(cat (\S+)\)`).FindStringSubmatch(text)
	if secretFile == nil {
		t.Fatalf("no secret file in:\n%s", text)
	}
	secret, err := os.ReadFile(secretFile[1])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, string(secret)) {
		t.Error("the client secret was printed")
	}
	t.Setenv("PBISYNC_TEST_EMU_SECRET", string(secret))
	n, err := config.Parse("snippet.yaml", []byte(dedent(snippet, 8)))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := powerbi.DecodeConfig(n)
	if err != nil {
		t.Fatalf("%v\n%s", err, snippet)
	}
	cfg.Scanner.PollInterval = 10 * time.Millisecond
	c, err := powerbi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ws int
	if _, err := c.Snapshots(ctx, func(s *snapshot.Snapshot) error { ws += len(s.Workspaces); return nil }); err != nil {
		t.Fatal(err)
	}
	if ws != 3 {
		t.Errorf("read %d workspaces, want 3", ws)
	}
	if c.Requests()["GET /admin/groups"] != 3 { // throttled, answered, then the empty page that ends the listing
		t.Errorf("the injected throttle was not seen: %v", c.Requests())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func dedent(s string, n int) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if len(line) >= n {
			line = line[n:]
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

func TestEmulateCommandRejects(t *testing.T) {
	for _, args := range [][]string{
		{"--addr", "0.0.0.0:0"},
		{"--tenant", "generated", "--size", "huge"},
		{"--tenant", "/no/such/file.json"},
	} {
		g := &globals{stdout: io.Discard, stderr: io.Discard, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		fs := flag.NewFlagSet("emulate", flag.ContinueOnError)
		run := emulateCommand().flags(fs, g)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		err := run(context.Background(), nil)
		if _, ok := err.(*usageError); !ok {
			t.Errorf("%v: want a usage error, got %v", args, err)
		}
	}
	fs := flag.NewFlagSet("emulate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	emulateCommand().flags(fs, &globals{})
	if err := fs.Parse([]string{"--fault", "explode"}); err == nil {
		t.Error("bad --fault accepted")
	}
}
