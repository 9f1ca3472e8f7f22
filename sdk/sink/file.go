package sink

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
)

// OpenLinesFile opens a line-oriented output file for a sink: created with its folder
// when missing, emptied at the start of a sync unless appending, and, when resuming
// after a restart, cut back to its last whole line (a crash may have left half of
// one). The file is positioned at its end.
//
// Deprecated: it empties the file before the sync has succeeded; use OpenRunFile, which
// replaces the file only when the run commits.
func OpenLinesFile(path string, appendTo, resume bool) (*os.File, error) {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	flags := os.O_RDWR | os.O_CREATE
	if !appendTo && !resume {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return nil, err
	}
	if err := cutPartialLine(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// cutPartialLine truncates f after its last newline, reading backwards in chunks so a
// large file is not read whole.
func cutPartialLine(f *os.File) error {
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil || end == 0 {
		return err
	}
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	cut := int64(0)
	for pos := end; pos > 0; {
		n := min(int64(chunk), pos)
		if _, err := f.ReadAt(buf[:n], pos-n); err != nil {
			return err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			cut = pos - n + int64(i) + 1
			break
		}
		pos -= n
	}
	if cut != end {
		if err := f.Truncate(cut); err != nil {
			return err
		}
	}
	_, err = f.Seek(cut, io.SeekStart)
	return err
}
