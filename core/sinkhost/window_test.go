package sinkhost

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pbisync/pbisync/sdk/sink"
)

// The window of unacknowledged batches is bounded by bytes as well as by count: a host
// whose plugin stops reading holds about windowBytes of large events, not window
// batches of them.
func TestWindowBoundedByBytes(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc to tell a stopped process")
	}
	out := filepath.Join(t.TempDir(), "specs.jsonl")
	s := startSink(t, fmt.Sprintf("name: specs\njsonl: {path: %q}\nbatch_size: 1\nwindow: 100\nack_timeout: 5m\n", out), testOptions(nil))
	if err := s.Begin(context.Background(), sink.RunSync); err != nil {
		t.Fatal(err)
	}
	pid := s.PID()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitStopped(t, pid)
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	const n, each = 30, 1 << 20
	evs := specEvents(0, n)
	for i := range evs {
		evs[i].Spec.Description = strings.Repeat("x", each)
	}
	var written atomic.Int64
	done := make(chan error, 1)
	go func() {
		for i := range evs {
			if err := s.Write(context.Background(), evs[i:i+1]); err != nil {
				done <- err
				return
			}
			written.Add(1)
		}
		done <- nil
	}()
	// However long this waits, no more than the bound's worth goes out unacknowledged.
	time.Sleep(2 * time.Second)
	if got, most := written.Load(), int64(windowBytes/each+1); got > most {
		t.Fatalf("%d events of 1 MiB written to a stopped plugin; the window should hold at most %d", got, most)
	}
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	lines := 0
	for sc.Scan() {
		lines++
	}
	if lines != n {
		t.Fatalf("%d lines in the output, want %d", lines, n)
	}
}

// A Write of large events goes out in batches of about batchBytes, not batch_size
// events at once, so the window holds several and the plugin acknowledges a part at
// a time; every event arrives.
func TestBatchBoundedByBytes(t *testing.T) {
	out := filepath.Join(t.TempDir(), "specs.jsonl")
	s := startSink(t, fmt.Sprintf("name: specs\njsonl: {path: %q}\nbatch_size: 500\n", out), testOptions(nil))
	if err := s.Begin(context.Background(), sink.RunSync); err != nil {
		t.Fatal(err)
	}
	const n, each = 24, 256 << 10
	evs := specEvents(0, n)
	for i := range evs {
		evs[i].Spec.Description = strings.Repeat("x", each)
	}
	if err := s.Write(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	batches := s.nextSeq
	s.mu.Unlock()
	if want := uint64(n * each / batchBytes); batches < want {
		t.Errorf("%d events of %d KiB went out in %d batches, want at least %d", n, each>>10, batches, want)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(data), "\n"); lines != n {
		t.Fatalf("%d lines in the output, want %d", lines, n)
	}
}
