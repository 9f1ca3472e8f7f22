package translate

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/sdk/spec"
)

// The hostile suite: modules written from sdk/ABI.md alone that trap, hang, flood or
// probe the sandbox. Each states its outcome; none may take down the host, fail an
// asset it did not touch, or keep the host past its time-out or its memory bound.

// hostMemoryBound is what the Go heap may reach during one hostile run: the pool's
// linear memories (2 instances at most 64 MiB each here) plus what the host itself keeps.
const hostMemoryBound = 512 << 20

// heapPeak samples the live heap while run runs and returns its highest value.
func heapPeak(t *testing.T, run func()) uint64 {
	t.Helper()
	runtime.GC()
	var peak uint64
	var mu sync.Mutex
	done := make(chan struct{})
	sampled := make(chan struct{})
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mu.Lock()
		peak = max(peak, ms.HeapAlloc)
		mu.Unlock()
	}
	go func() {
		defer close(sampled)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				sample()
			}
		}
	}()
	run()
	close(done)
	<-sampled
	sample()
	return peak
}

// mixedRecords returns n assets cycling through dashboards, reports, models and
// sources, numbered by ID.
func mixedRecords(n int) []record.Record {
	types := []spec.ContentType{spec.Dashboard, spec.Report, spec.SemanticModel, spec.DataSource}
	recs := numbered(n)
	for i := range recs {
		recs[i].Spec.PowerBI.Type = types[i%len(types)]
	}
	return recs
}

func TestHostileModules(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		extra   string
		n       int
		timeout time.Duration // the most the run may take
		// failed says which assets must fail (all others must be kept unchanged
		// unless changed is set), and want what their problem says.
		failed  func(r record.Record) bool
		want    string
		changed bool
	}{
		{"trap on a type fails only that type", "trap", "    on_error: skip\n", 1510, 30 * time.Second,
			isType(spec.Report), "trap: wasm error: unreachable", false},
		{"trap always fails each asset alone", "trapall", "    on_error: skip\n", 600, 30 * time.Second,
			func(record.Record) bool { return true }, "trap: wasm error: unreachable", false},
		{"infinite loop costs one time-out per stuck asset", "loop", "    on_error: skip\n    limits: {asset_timeout: 100ms}\n", 12, 10 * time.Second,
			isType(spec.Report), "stopped after asset_timeout 100ms on this asset", false},
		{"a loop in a module that cannot be instrumented is stopped by wazero", "uninstrumentable", "    on_error: skip\n    limits: {asset_timeout: 100ms}\n", 8, 10 * time.Second,
			isType(spec.Report), "stopped after asset_timeout 100ms on this asset", false},
		{"endless recursion without loops is stopped too", "recurse", "    on_error: skip\n    limits: {asset_timeout: 100ms}\n", 8, 10 * time.Second,
			isType(spec.Report), "stopped after asset_timeout 100ms on this asset", false},
		{"memory growth stops at limits.memory", "grow", "    on_error: skip\n    limits: {memory: 2MiB}\n", 4, 10 * time.Second,
			func(record.Record) bool { return true }, "trap", false},
		{"insert flood is charged and ended", "insertflood", "    on_error: skip\n", 8, 30 * time.Second,
			func(record.Record) bool { return true }, "insert(KINDS): edits of this asset exceed max_output", false},
		{"huge output is refused before it is copied", "hugeoutput", "    on_error: skip\n", 40, 30 * time.Second,
			func(record.Record) bool { return true }, "set(DESCRIPTION): edits of this asset exceed max_output (1048576 bytes)", false},
		{"a sleep without the clock grant only moves the fake clock", "sleep", "", 8, 5 * time.Second,
			func(record.Record) bool { return false }, "", false},
		{"a granted sleep ends at the asset's time-out", "sleep", "    on_error: skip\n    grant: {clock: true}\n    limits: {asset_timeout: 100ms}\n", 8, 10 * time.Second,
			isType(spec.Report), "stopped after asset_timeout 100ms on this asset", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := newChain(t, fixture(tt.fixture, tt.extra), Options{Instances: 2, Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(context.Background())
			in := mixedRecords(tt.n)
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			var out []record.Record
			var probs []record.Problem
			peak := heapPeak(t, func() { out, probs, err = c.Translate(ctx, in) })
			if err != nil {
				t.Fatal(err)
			}
			if peak > hostMemoryBound {
				t.Errorf("heap peaked at %d MiB, over the bound of %d MiB", peak>>20, hostMemoryBound>>20)
			}
			got := problemsOf(probs)
			kept := map[string]record.Record{}
			for _, r := range out {
				kept[r.Spec.PowerBI.ID] = r
			}
			for _, r := range in {
				id := r.Spec.PowerBI.ID
				if tt.failed(r) {
					if !strings.Contains(got[id], tt.want) {
						t.Fatalf("asset %s (%s): problem %q, want it to contain %q", id, r.Spec.PowerBI.Type, got[id], tt.want)
					}
					continue
				}
				k, ok := kept[id]
				if !ok {
					t.Fatalf("healthy asset %s (%s) was not kept: %q", id, r.Spec.PowerBI.Type, got[id])
				}
				if !tt.changed && k.Spec.Description != r.Spec.Description {
					t.Fatalf("healthy asset %s was changed", id)
				}
			}
			if len(out)+len(probs) != len(in) {
				t.Fatalf("%d kept + %d problems != %d assets", len(out), len(probs), len(in))
			}
		})
	}
}

func isType(ct spec.ContentType) func(record.Record) bool {
	return func(r record.Record) bool { return r.Spec.PowerBI.Type == ct }
}

// TestHostileRefusedAtLoad: modules that cannot work are refused when they load, with
// an error that names what is wrong.
func TestHostileRefusedAtLoad(t *testing.T) {
	for _, tt := range []struct{ fixture, extra, want string }{
		{"badsig", "", "module imports pbisync.get with the signature (i32, i32) -> i32; pbisync provides (i32, i32, i32, i32) -> i32"},
		{"badwasi", "", "module imports wasi_snapshot_preview1.fd_write with the signature (i32) -> i32; pbisync provides (i32, i32, i32, i32) -> i32"},
		{"notranslate", "", "module exports no pbisync_translate function"},
		{"nomemory", "", `module exports no memory named "memory"`},
		{"bigmem", "", "the module's memory starts at 125MiB (2000 pages), more than limits.memory (64MiB)"},
		{"command", "", "module is a WASI command (it exports _start); pbisync runs reactors"},
		{"noop", "    limits: {batch_timeout: 10s}\n", "batch_timeout is gone: time limits are per asset now; use asset_timeout"},
		{"noop", "    limits: {memory: 64MiB, stage_memory: 64MiB}\n", "memory (64MiB) must be at most half of stage_memory"},
	} {
		t.Run(tt.fixture, func(t *testing.T) {
			c, err := newChain(t, fixture(tt.fixture, tt.extra), Options{})
			if err == nil {
				_ = c.Close(context.Background())
				t.Fatalf("loaded, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

// TestHostileSleepHonoursCancellation: a guest asleep with the clock granted and a
// one-hour asset_timeout still ends as soon as the run is cancelled.
func TestHostileSleepHonoursCancellation(t *testing.T) {
	c := mustChain(t, fixture("sleep", "    grant: {clock: true}\n    limits: {asset_timeout: 1h}\n"))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() {
		_, _, err := c.Translate(ctx, mixedRecords(4))
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "context canceled") {
			t.Fatalf("error %v, want the cancellation", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a sleeping guest kept the run going after its cancellation")
	}
}

// TestHostileStageCeiling: edits held by one Translate call past half of
// limits.stage_memory fail the call with a clear error.
func TestHostileStageCeiling(t *testing.T) {
	c := mustChain(t, fixture("hugeoutput", "    on_error: skip\n    limits: {memory: 1MiB, stage_memory: 8MiB}\n"))
	_, _, err := c.Translate(context.Background(), mixedRecords(40))
	if err == nil || !strings.Contains(err.Error(), "the edits of this batch passed half of limits.stage_memory (8MiB)") {
		t.Fatalf("error %v, want the stage ceiling", err)
	}
}

// TestHostileLogFlood: 100 assets each log 1,000 lines and print 1,000 more; the log
// gets the first max_log_lines per asset up to max_run_lines, and one line counting
// the rest.
func TestHostileLogFlood(t *testing.T) {
	var buf bytes.Buffer
	c, err := newChain(t, fixture("logflood", ""), Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, probs, err := c.Translate(context.Background(), mixedRecords(30)); err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	lines := strings.Count(buf.String(), "msg=flood")
	if lines != 30*DefaultMaxLogLines {
		t.Errorf("%d guest lines logged, want %d (max_log_lines per asset)", lines, 30*DefaultMaxLogLines)
	}
	if want := "lines=" + itoa(30*2000-30*DefaultMaxLogLines); !strings.Contains(buf.String(), want) {
		t.Errorf("no summary with %s in the log", want)
	}
	buf.Reset()
	if _, _, err := c.Translate(context.Background(), mixedRecords(100)); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(buf.String(), "msg=flood"); lines != DefaultMaxRunLines-30*DefaultMaxLogLines {
		t.Errorf("%d guest lines logged in the second batch, want the rest of max_run_lines: %d", lines, DefaultMaxRunLines-30*DefaultMaxLogLines)
	}
}

// TestHostileSymlinkEscape: grant.fs serves the granted tree only, after resolving
// links; a relative grant resolves against the pipeline's directory.
func TestHostileSymlinkEscape(t *testing.T) {
	base := t.TempDir()
	data := filepath.Join(base, "data")
	outside := filepath.Join(base, "secret.txt")
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(data, "sub"), 0o755))
	must(os.WriteFile(filepath.Join(data, "inside.txt"), []byte("hello"), 0o644))
	must(os.WriteFile(outside, []byte("secret"), 0o644))
	must(os.Symlink(outside, filepath.Join(data, "escape")))
	must(os.Symlink("../secret.txt", filepath.Join(data, "sub", "relescape")))
	must(os.Symlink("inside.txt", filepath.Join(data, "alias")))
	wasm, _ := filepath.Abs("testdata/wat/fsread.wasm")
	for _, tt := range []struct{ path, want string }{
		{"inside.txt", "hello"},
		{"alias", "hello"},
		{"escape", "denied"},
		{"sub/relescape", "denied"},
		{"../secret.txt", "denied"},
		{"/etc/passwd", "denied"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			yml := wasmEntry("fsread", wasm, "    grant: {fs: [data]}\n    config: {path: "+tt.path+"}\n")
			c, err := newChain(t, yml, Options{BaseDir: base})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(context.Background())
			out, probs, err := c.Translate(context.Background(), sampleRecords(1))
			if err != nil || len(probs) > 0 {
				t.Fatal(err, probs)
			}
			if got := out[0].Spec.Description; got != tt.want {
				t.Fatalf("read %q, want %q", got, tt.want)
			}
		})
	}
}

// TestHostileTrapBeforeFirstAsset: a reused instance that traps before its first next
// is replaced and the batch runs again on a fresh one; nothing fails.
func TestHostileTrapBeforeFirstAsset(t *testing.T) {
	c, err := newChain(t, fixture("stale", ""), Options{Instances: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	for round := range 3 {
		out, probs, err := c.Translate(context.Background(), mixedRecords(5))
		if err != nil || len(probs) > 0 || len(out) != 5 {
			t.Fatalf("round %d: %d kept, problems %v, error %v", round, len(out), probs, err)
		}
	}
}

// TestInstrumentChoice: the fixtures are instrumented, except the one that claims the
// reserved export, which falls back to close-on-context-done.
func TestInstrumentChoice(t *testing.T) {
	for name, want := range map[string]bool{"loop": true, "recurse": true, "probe": true, "uninstrumentable": false} {
		data, err := os.ReadFile("testdata/wat/" + name + ".wasm")
		if err != nil {
			t.Fatal(err)
		}
		c := mustChain(t, fixture(name, ""))
		if got := c.Steps()[0].(*WASM).stopper; got != want {
			t.Errorf("%s: instrumented %v, want %v", name, got, want)
		}
		if _, err := instrument(data); (err == nil) != want {
			t.Errorf("%s: instrument: %v", name, err)
		}
	}
}
