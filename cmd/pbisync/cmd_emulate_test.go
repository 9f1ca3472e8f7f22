package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
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
	if !strings.Contains(text, "HTTP") || !strings.Contains(text, "JSON") {
		t.Errorf("the printout does not say what a sync against the emulator pays for:\n%s", text)
	}
	// Run the printed pipeline as printed: saved to a file, the secret exported.
	_, doc, _ := strings.Cut(text, "\nversion: 1\n")
	doc, _, _ = strings.Cut("version: 1\n"+doc, "\n\n")
	dir := t.TempDir()
	f := filepath.Join(dir, "emulator.yaml")
	if err := os.WriteFile(f, []byte(doc+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PBISYNC_TEST_EMU_SECRET", string(secret))
	code, _, errOut := cli(t, "sync", "-f", f)
	if code != exitOK {
		t.Fatalf("the printed pipeline does not sync: exit %d\n%s\npipeline:\n%s", code, errOut, doc)
	}
	specs, err := os.ReadFile(filepath.Join(dir, "out", "specs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(specs), "\n"); n < 3*4 {
		t.Errorf("%d specs from 3 workspaces", n)
	}
	// The injected throttle was answered and waited out (throttled, answered, then the
	// empty page that ends the listing).
	if !strings.Contains(errOut, "GET /admin/groups=3") {
		t.Errorf("the injected throttle was not seen:\n%s", errOut)
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
