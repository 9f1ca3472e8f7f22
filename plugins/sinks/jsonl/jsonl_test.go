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

func TestFileModes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "out.jsonl")
	cfg := `{"path":"` + path + `"}`
	ev := sinktest.Sample()
	run := func(opts sinktest.Options) {
		t.Helper()
		if err := sinktest.Run(context.Background(), New(), opts, ev); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(data), "\n")
	}
	run(sinktest.Options{Config: cfg})
	run(sinktest.Options{Config: cfg})
	if n := count(); n != len(ev) {
		t.Fatalf("a new sync must start afresh: %d lines", n)
	}
	// A crash left half a line: a resumed sink cuts it and appends.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"kind":"spec","spe`)
	f.Close()
	run(sinktest.Options{Config: cfg, Resume: true})
	if n := count(); n != 2*len(ev) {
		t.Fatalf("resume: %d lines", n)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasSuffix(string(data), "}\n") || strings.Contains(string(data), `"spe{`) {
		t.Fatal("partial line left in the file")
	}
	run(sinktest.Options{Config: `{"path":"` + path + `","append":true,"kinds":["refresh"]}`})
	if n := count(); n != 2*len(ev)+5 {
		t.Fatalf("append refresh only: %d lines", n)
	}
}

func TestConfigErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{"kinds":["spec","sepc"]}`:     "kinds.1",
		`{"path":"/proc/nope/x.jsonl"}`: "path",
		`{"pth":"x"}`:                   "pth",
		`{"append":"yes"}`:              "append",
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
	defer s.Close(context.Background())
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
