package sink

import (
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
