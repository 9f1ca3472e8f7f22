package sink

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestRunFile(t *testing.T) {
	sync := Run{Kind: RunSync, ID: "r1"}
	tests := []struct {
		name   string
		before string // "" leaves no file
		run    Run
		opts   FileOptions
		write  string
		commit bool
		want   string // the target afterwards; "-" means no file
	}{
		{"a sync replaces on commit", "old\n", sync, FileOptions{}, "new\n", true, "new\n"},
		{"a sync aborted leaves the file", "old\n", sync, FileOptions{}, "new\n", false, "old\n"},
		{"a first sync aborted leaves no file", "", sync, FileOptions{}, "new\n", false, "-"},
		{"an aborted sync keeps its partial when asked", "old\n", sync, FileOptions{KeepPartial: true}, "new\n", false, "old\n"},
		{"a refresh appends, cutting a partial line", "old\npart", Run{Kind: RunRefresh, ID: "r"}, FileOptions{}, "new\n", true, "old\nnew\n"},
		{"an aborted refresh keeps what it appended", "old\n", Run{Kind: RunStream, ID: "r"}, FileOptions{}, "new\n", false, "old\nnew\n"},
		{"append mode appends a sync", "old\n", sync, FileOptions{Append: true}, "new\n", true, "old\nnew\n"},
		{"an old host's run replaces", "old\n", Run{ID: "run1"}, FileOptions{}, "new\n", true, "new\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, "sub", "out.jsonl")
			if tc.before != "" {
				os.MkdirAll(filepath.Dir(target), 0o755)
				os.WriteFile(target, []byte(tc.before), 0o640)
			}
			f, err := OpenRunFile(target, tc.run, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write([]byte(tc.write)); err != nil {
				t.Fatal(err)
			}
			if err := f.Sync(); err != nil {
				t.Fatal(err)
			}
			if f.Replacing() {
				if got, _ := os.ReadFile(target); tc.before != "" && string(got) != tc.before {
					t.Fatalf("the target changed before the commit: %q", got)
				}
			}
			if tc.commit {
				err = f.Commit()
			} else {
				err = f.Abort("test")
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(target)
			switch {
			case tc.want == "-":
				if !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("want no file, got %q, %v", got, err)
				}
			case string(got) != tc.want:
				t.Fatalf("target %q, want %q", got, tc.want)
			}
			if st, err := os.Stat(target); err == nil && tc.before != "" && st.Mode().Perm() != 0o640 {
				t.Errorf("permissions %v, want the old file's 0640", st.Mode().Perm())
			}
			left, _ := filepath.Glob(filepath.Join(dir, "sub", ".*"+partialSuffix))
			if len(left) > 0 {
				t.Errorf("replacements left: %v", left)
			}
			_, err = os.Stat(target + partialSuffix)
			if kept := err == nil; kept != (tc.opts.KeepPartial && !tc.commit) {
				t.Errorf("partial kept: %v", kept)
			}
		})
	}
}

// TestRunFileResumeAndStale: a resumed run continues its own replacement; a new run
// removes what dead runs left but not the file of a run still writing.
func TestRunFileResumeAndStale(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "out.jsonl")
	os.WriteFile(target, []byte("old\n"), 0o644)
	first, err := OpenRunFile(target, Run{Kind: RunSync, ID: "a"}, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first.Write([]byte("one\ntw")) // as a crash would leave it
	first.File().Close()           // the process died: its lock is gone

	resumed, err := OpenRunFile(target, Run{Kind: RunSync, ID: "a", Resume: true}, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Fresh() {
		t.Fatal("a resumed replacement holding a record is not fresh")
	}
	// A concurrent run must not remove the live one's file; a dead one's goes.
	dead := filepath.Join(dir, ".out.jsonl.dead"+partialSuffix)
	os.WriteFile(dead, []byte("x\n"), 0o644)
	other, err := OpenRunFile(target, Run{Kind: RunSync, ID: "b"}, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dead); !errors.Is(err, os.ErrNotExist) {
		t.Error("a dead run's replacement was not removed")
	}
	if _, err := os.Stat(resumed.Path()); err != nil {
		t.Errorf("a live run's replacement was removed: %v", err)
	}
	other.Abort("test")
	resumed.Write([]byte("two\n"))
	if err := resumed.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(target); !bytes.Equal(got, []byte("one\ntwo\n")) {
		t.Fatalf("target %q", got)
	}
}
