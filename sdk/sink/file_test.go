package sink

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenLinesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b.jsonl")
	long := strings.Repeat("x", 100<<10) // longer than one read chunk
	tests := []struct {
		name             string
		before           string
		appendTo, resume bool
		want             string
	}{
		{"new sync empties", "old\n", false, false, "new\n"},
		{"append keeps", "old\n", true, false, "old\nnew\n"},
		{"resume cuts a partial line", "one\ntw", false, true, "one\nnew\n"},
		{"resume keeps whole lines", "one\n", false, true, "one\nnew\n"},
		{"resume, no newline at all", long, false, true, "new\n"},
		{"resume, long partial line", "one\n" + long, false, true, "one\nnew\n"},
	}
	for _, tc := range tests {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(tc.before), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := OpenLinesFile(path, tc.appendTo, tc.resume)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("new\n")
		f.Close()
		got, _ := os.ReadFile(path)
		if string(got) != tc.want {
			t.Errorf("%s: got %.40q, want %.40q", tc.name, got, tc.want)
		}
	}
}

func FuzzOpenLinesFile(f *testing.F) {
	f.Add([]byte("one\ntwo\nthr"))
	f.Add([]byte("\n"))
	f.Add([]byte("no newline"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, before []byte) {
		path := filepath.Join(dir, "f.jsonl")
		if err := os.WriteFile(path, before, 0o644); err != nil {
			t.Fatal(err)
		}
		fl, err := OpenLinesFile(path, false, true)
		if err != nil {
			t.Fatal(err)
		}
		fl.Close()
		got, _ := os.ReadFile(path)
		want := before[:bytes.LastIndexByte(before, '\n')+1]
		if !bytes.Equal(got, want) {
			t.Fatalf("kept %q of %q, want %q", got, before, want)
		}
	})
}
