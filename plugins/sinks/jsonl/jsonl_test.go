package jsonl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinktest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestSampleGolden(t *testing.T) {
	var out bytes.Buffer
	if err := sinktest.Run(context.Background(), New(), sinktest.Options{Stdout: &out, BatchSize: 5}, sinktest.Sample()); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "sample.golden.jsonl")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Fatalf("output differs from %s (run with -update after checking):\n%s", golden, out.String())
	}
	// Same bytes as encoding/json gives for the events themselves.
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	for i, e := range sinktest.Sample() {
		b, _ := json.Marshal(&e)
		if string(b) != lines[i] {
			t.Fatalf("line %d:\n got %s\nwant %s", i+1, lines[i], b)
		}
	}
}

func TestFileRuns(t *testing.T) {
	ev := sinktest.Sample()
	specs, refreshes := 0, 0
	for _, e := range ev {
		switch e.Kind {
		case event.KindSpec:
			specs++
		case event.KindRefresh:
			refreshes++
		}
	}
	n := len(ev)
	type step struct {
		opts  sinktest.Options
		extra string // config keys added to path
		// partial appends half a line to the file the step resumes, as a crash leaves it
		partial bool
		lines   int // lines in the target afterwards
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"a sync replaces the file", []step{{lines: n}, {lines: n}}},
		{"an aborted sync leaves the file as it was", []step{{lines: n}, {opts: sinktest.Options{AbortWith: "source failed"}, lines: n}}},
		{"the first sync aborted leaves no file", []step{{opts: sinktest.Options{AbortWith: "x"}, lines: -1}}},
		{"a refresh appends to a replaced file", []step{{lines: n}, {opts: sinktest.Options{Kind: sink.RunRefresh}, lines: 2 * n}}},
		{"a stream appends", []step{{lines: n}, {opts: sinktest.Options{Kind: sink.RunStream}, lines: 2 * n}}},
		{"append mode appends syncs", []step{{extra: `,"append":true`, lines: n}, {extra: `,"append":true`, lines: 2 * n}}},
		{"a resumed sync continues its replacement, cutting a partial line", []step{
			{lines: n},
			{opts: sinktest.Options{RunID: "r2", AbortWith: "crash"}, extra: `,"keep_partial":true`, lines: n},
			{opts: sinktest.Options{RunID: "r2", Resume: true}, partial: true, lines: 2 * n},
		}},
		{"a resumed refresh cuts a partial line", []step{{lines: n}, {opts: sinktest.Options{Kind: sink.RunRefresh, Resume: true}, partial: true, lines: 2 * n}}},
		{"a file of specs", []step{{extra: `,"format":"specs"`, lines: specs}}},
		{"a host that predates runs: the kit's own run replaces the file in Close", []step{{lines: n}, {opts: sinktest.Options{LegacyHost: true}, lines: n}}},
		{"refresh kinds, appended", []step{{extra: `,"append":true,"kinds":["refresh"]`, lines: refreshes}, {extra: `,"append":true,"kinds":["refresh"]`, lines: 2 * refreshes}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "sub", "out.jsonl")
			for i, st := range tc.steps {
				if st.partial {
					// A crash left half a line in the file this step resumes: the
					// kept replacement (moved back where the run left it) or the target.
					resumed := path
					if st.opts.Kind.Replaces() {
						resumed = filepath.Join(dir, "sub", ".out.jsonl."+st.opts.RunID+".partial")
						if err := os.Rename(path+".partial", resumed); err != nil {
							t.Fatal(err)
						}
					}
					f, _ := os.OpenFile(resumed, os.O_APPEND|os.O_WRONLY, 0)
					f.WriteString(`{"kind":"spec","spe`)
					f.Close()
				}
				opts := st.opts
				opts.Config = `{"path":"` + path + `"` + st.extra + `}`
				before, _ := os.ReadFile(path)
				if err := sinktest.Run(context.Background(), New(), opts, ev); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				data, err := os.ReadFile(path)
				if st.lines < 0 {
					if !errors.Is(err, os.ErrNotExist) {
						t.Fatalf("step %d: the file exists: %v", i, err)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := strings.Count(string(data), "\n"); got != st.lines {
					t.Fatalf("step %d: %d lines, want %d", i, got, st.lines)
				}
				if opts.AbortWith != "" && !bytes.Equal(before, data) {
					t.Fatalf("step %d: an aborted run changed the file", i)
				}
				for j, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
					if !json.Valid([]byte(line)) {
						t.Fatalf("step %d: line %d is broken: %s", i, j+1, line)
					}
				}
			}
			left, _ := filepath.Glob(filepath.Join(dir, "sub", ".*.partial"))
			if len(left) > 0 {
				t.Errorf("replacements left behind: %v", left)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{"kinds":["spec","sepc"]}`:       "kinds.1",
		`{"path":"` + os.TempDir() + `"}`: "path",
		`{"pth":"x"}`:                     "pth",
		`{"append":"yes"}`:                "append",
	} {
		err := sinktest.Run(context.Background(), New(), sinktest.Options{Config: in}, nil)
		var ce sinktest.ConfigErrors
		if !errors.As(err, &ce) || strings.Join(ce[0].Path, ".") != want {
			t.Errorf("%s: error %v, want one at %s", in, err, want)
		}
	}
}

// BenchmarkWriteBatch encodes and writes batches of 500 spec events to a file.
func BenchmarkWriteBatch(b *testing.B) {
	s := New()
	cfg := sink.Config{Raw: []byte(`{"path":"` + filepath.Join(b.TempDir(), "x.jsonl") + `"}`)}
	if err := s.Configure(context.Background(), cfg); err != nil {
		b.Fatal(err)
	}
	if err := s.Begin(context.Background(), sink.Run{Kind: sink.RunSync, ID: "bench"}); err != nil {
		b.Fatal(err)
	}
	defer s.Commit(context.Background())
	var batch []event.Event
	for len(batch) < 500 {
		for _, e := range sinktest.Sample() {
			if e.Kind == event.KindSpec {
				batch = append(batch, e)
			}
		}
	}
	for b.Loop() {
		if err := s.WriteBatch(context.Background(), batch[:500]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "events/s")
}
