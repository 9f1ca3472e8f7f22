package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"unicode/utf8"
)

// liveTerm is a terminal's standard error shared by log lines and a live block (the
// progress line, the refresh view) drawn below them. Every log line is written above
// the block: the block is cleared, the line written, the block drawn again, so a
// redraw never erases a log line.
type liveTerm struct {
	mu    sync.Mutex
	w     io.Writer
	width int      // columns; lines of the block are clipped to it so none wraps
	block []string // the live block's lines
	shown int      // lines of the block on the screen now
}

func newLiveTerm(w io.Writer) *liveTerm {
	return &liveTerm{w: w, width: terminalWidth(w)}
}

// Write writes log output above the live block.
func (t *liveTerm) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var buf bytes.Buffer
	t.erase(&buf)
	buf.Write(p)
	if len(p) > 0 && p[len(p)-1] != '\n' {
		buf.WriteByte('\n')
	}
	t.draw(&buf)
	if _, err := t.w.Write(buf.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Show replaces the live block with lines and draws it.
func (t *liveTerm) Show(lines ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var buf bytes.Buffer
	t.erase(&buf)
	t.block = lines
	t.draw(&buf)
	_, _ = t.w.Write(buf.Bytes())
}

// Clear removes the live block from the screen.
func (t *liveTerm) Clear() { t.Show() }

// Keep leaves the live block on the screen as ordinary lines: later output goes below it.
func (t *liveTerm) Keep() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.block, t.shown = nil, 0
}

func (t *liveTerm) erase(buf *bytes.Buffer) {
	if t.shown > 0 {
		// Up to the block's first line, then clear to the end of the screen.
		fmt.Fprintf(buf, "\033[%dA\r\033[J", t.shown)
		t.shown = 0
	}
}

func (t *liveTerm) draw(buf *bytes.Buffer) {
	for _, l := range t.block {
		buf.WriteString(clipWidth(l, t.width-1))
		buf.WriteByte('\n')
	}
	t.shown = len(t.block)
}

// clipWidth cuts s to at most n characters.
func clipWidth(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// terminalWidth asks the terminal for its width; COLUMNS or 80 otherwise.
func terminalWidth(w io.Writer) int {
	if n := ttyColumns(w); n > 0 {
		return n
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 80
}
