package sink

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// FileOptions say how an output file takes part in runs.
type FileOptions struct {
	// Append makes every run add to the file. Without it the file is replaced: a sync
	// run writes a new file beside it and renames it over the target on Commit; a
	// refresh or stream run appends to it.
	Append bool
	// Fsync makes Sync flush to disk even while a replacement is being written (an
	// appended file is flushed at every Sync anyway).
	Fsync bool
	// KeepPartial keeps an aborted replacement as TARGET.partial instead of removing it.
	KeepPartial bool
	// Trim cuts a partial record off the end of a file that is appended to or resumed,
	// and is called with the file open for reading and writing. Nil cuts everything
	// after the last newline, for one record per line.
	Trim func(f *os.File) error
	// Logger says what happened to the file when a run aborts (nil: discarded).
	Logger *slog.Logger
}

// RunFile is an output file written by one run. Its records reach the target only as
// the run allows: a replacing run's file replaces the target whole on Commit and is
// discarded on Abort, so the target is always either the previous complete file or
// the new one; an appending run adds whole records (Trim removes what a crash left of
// one), flushed to disk at every Sync.
type RunFile struct {
	target string
	path   string // where the records go: the target, or the replacement beside it
	f      *os.File
	opts   FileOptions
	run    Run
	log    *slog.Logger
	// replacing is set when the run replaces the target; fresh when the file the run
	// writes started empty (a sink writes its header then).
	replacing, fresh bool
	done             bool
	// end is where the file ends; written is how much of it was written since its
	// writeback was last started (replacements only, see Write).
	end, written int64
}

// partialSuffix ends the name of a replacement being written.
const partialSuffix = ".partial"

// OpenRunFile opens the output file target for run. The folder is created when missing.
// A replacing run (a sync, without Append) writes .NAME.RUNID.partial beside the target;
// on Resume it reopens that file, cut back to its last whole record. Replacements left
// by earlier runs that no process holds any more are removed.
func OpenRunFile(target string, run Run, opts FileOptions) (*RunFile, error) {
	if target == "" {
		return nil, errors.New("no file name")
	}
	rf := &RunFile{target: target, opts: opts, run: run, log: opts.Logger}
	if rf.log == nil {
		rf.log = slog.New(slog.DiscardHandler)
	}
	if opts.Trim == nil {
		rf.opts.Trim = cutPartialLine
	}
	dir := filepath.Dir(target)
	if dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	perm := fs.FileMode(0o644)
	if st, err := os.Stat(target); err == nil {
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%s is not a regular file", target)
		}
		perm = st.Mode().Perm()
	}
	rf.replacing = !opts.Append && run.Kind.Replaces()
	flags := os.O_RDWR | os.O_CREATE
	rf.path = target
	if rf.replacing {
		rf.path = filepath.Join(dir, "."+filepath.Base(target)+"."+safeName(run.ID)+partialSuffix)
		if !run.Resume {
			flags |= os.O_TRUNC
			rf.removeStale()
		}
	} else {
		flags |= os.O_APPEND
	}
	f, err := os.OpenFile(rf.path, flags, perm)
	if err != nil {
		return nil, err
	}
	if rf.replacing {
		if err := lockFile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: another process writes this run's file: %w", rf.path, err)
		}
		_ = f.Chmod(perm) // the replacement keeps the target's permissions
	}
	if !rf.replacing || run.Resume {
		if err := rf.opts.Trim(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: cutting a partial record: %w", rf.path, err)
		}
	}
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, err
	}
	rf.f, rf.fresh, rf.end = f, end == 0, end
	return rf, nil
}

// safeName keeps a run id usable in a file name.
func safeName(id string) string {
	if id == "" {
		return "run"
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, id)
}

// removeStale removes the replacements of earlier runs of this target that no live
// process holds: what a crash or a kill left behind.
func (rf *RunFile) removeStale() {
	pattern := filepath.Join(filepath.Dir(rf.target), "."+globEscape(filepath.Base(rf.target))+".*"+partialSuffix)
	matches, _ := filepath.Glob(pattern)
	for _, m := range matches {
		if m == rf.path {
			continue
		}
		if removeIfUnlocked(m) {
			rf.log.Info("removed the partial output of an earlier run that did not finish", "file", m, "target", rf.target)
		}
	}
}

func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(s)
}

// Write writes p to the run's file. Sinks write whole records (a batch at a time).
func (rf *RunFile) Write(p []byte) (int, error) {
	if rf.done {
		return 0, fmt.Errorf("%s: write after the run ended", rf.target)
	}
	n, err := rf.f.Write(p)
	if n > 0 {
		rf.fresh = false
	}
	rf.end += int64(n)
	if rf.replacing && !rf.opts.Fsync {
		// A replacement is flushed once, at Commit, before it is renamed: its bytes
		// are handed to the disk as they come, so that the flush (of hundreds of
		// megabytes, for a large tenant's specs) does not all wait for the end.
		if rf.written += int64(n); rf.written >= writebackEvery {
			startWriteback(rf.f, rf.end-rf.written, rf.written)
			rf.written = 0
		}
	}
	return n, err
}

// writebackEvery is how many bytes of a replacement are written before their writeback
// is started.
const writebackEvery = 8 << 20

// Sync marks a batch boundary: an appended file is flushed to disk, so every
// acknowledged batch survives a crash of the machine.
func (rf *RunFile) Sync() error {
	if rf.replacing && !rf.opts.Fsync {
		return nil
	}
	if err := rf.f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", rf.path, err)
	}
	return nil
}

// Target is the file the run writes for; Path is where its bytes go now.
func (rf *RunFile) Target() string { return rf.target }

// Path is where the run's bytes go: the replacement beside the target, or the target.
func (rf *RunFile) Path() string { return rf.path }

// Replacing reports whether the run replaces the target on Commit.
func (rf *RunFile) Replacing() bool { return rf.replacing }

// Fresh reports whether the file the run writes holds nothing yet: a sink with a
// header (a JSON array's "[") writes it then.
func (rf *RunFile) Fresh() bool { return rf.fresh }

// File is the open file, for a sink that reads back what it wrote.
func (rf *RunFile) File() *os.File { return rf.f }

// Commit completes the run: a replacement is flushed and renamed over the target (and
// the folder flushed, so the rename survives a crash); an appended file is flushed.
func (rf *RunFile) Commit() error {
	if rf.done {
		return nil
	}
	rf.done = true
	if err := rf.f.Sync(); err != nil {
		rf.f.Close()
		rf.discard()
		return fmt.Errorf("syncing %s: %w (%s is left as it was)", rf.path, err, rf.target)
	}
	if err := rf.f.Close(); err != nil {
		rf.discard()
		return fmt.Errorf("closing %s: %w (%s is left as it was)", rf.path, err, rf.target)
	}
	if !rf.replacing {
		return nil
	}
	if err := os.Rename(rf.path, rf.target); err != nil {
		rf.discard()
		return fmt.Errorf("replacing %s: %w (it is left as it was)", rf.target, err)
	}
	syncDir(filepath.Dir(rf.target))
	return nil
}

func (rf *RunFile) discard() {
	if rf.replacing {
		os.Remove(rf.path)
	}
}

// Abort ends a failed run. A replacement is removed (or kept as TARGET.partial with
// KeepPartial) and the target stays byte for byte as it was; an appended file keeps
// the whole records the run added. The log says which.
func (rf *RunFile) Abort(reason string) error {
	if rf.done {
		return nil
	}
	rf.done = true
	if !rf.replacing {
		err := rf.f.Sync()
		if cerr := rf.f.Close(); err == nil {
			err = cerr
		}
		rf.log.Warn("run aborted; the whole records it appended stay", "file", rf.target, "run", rf.run.Kind.String(), "reason", reason)
		return err
	}
	rf.f.Close()
	if rf.opts.KeepPartial {
		kept := rf.target + partialSuffix
		if err := os.Rename(rf.path, kept); err != nil {
			os.Remove(rf.path)
			return fmt.Errorf("keeping the partial output of %s: %w", rf.target, err)
		}
		rf.log.Warn("run aborted: the output is left as it was; the partial one is kept", "file", rf.target, "partial", kept, "reason", reason)
		return nil
	}
	if err := os.Remove(rf.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	rf.log.Warn("run aborted: the output is left as it was; the partial one was discarded", "file", rf.target, "reason", reason)
	return nil
}

// syncDir flushes a folder's entries (a rename) to disk, where the system allows it.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	d.Close()
}
