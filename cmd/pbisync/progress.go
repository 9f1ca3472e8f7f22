package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/pbisync/pbisync/core/engine"
)

// progress shows a one-line live count on a terminal, and logs a line every few seconds
// otherwise.
type progress struct {
	g       *globals
	mu      sync.Mutex
	last    time.Time
	shown   bool
	started time.Time
	built   engine.Progress     // the engine's side
	scan    engine.ScanProgress // the source's side
}

func newProgress(g *globals) *progress { return &progress{g: g, started: time.Now()} }

func (p *progress) update(pr engine.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pr.Scan != nil {
		p.scan = *pr.Scan
	} else {
		p.built = pr
	}
	now := time.Now()
	if p.g.live != nil {
		if now.Sub(p.last) < 100*time.Millisecond {
			return
		}
		p.last = now
		p.g.live.Show(p.line(now))
		p.shown = true
		return
	}
	if now.Sub(p.last) < 5*time.Second {
		return
	}
	p.last = now
	attrs := []any{"workspaces_built", p.built.Workspaces, "batches", p.built.Batches, "assets", p.built.Assets}
	if p.scan.WorkspacesTotal > 0 {
		// Only a source that scans knows these; a snapshot file has none to show.
		attrs = append([]any{"workspaces_read", p.scan.WorkspacesDone, "workspaces_total", p.scan.WorkspacesTotal}, attrs...)
	}
	p.g.logger.Info("progress", attrs...)
}

// line is the live line: what the scan and the build have done so far.
func (p *progress) line(now time.Time) string {
	scanned := ""
	if p.scan.WorkspacesTotal > 0 {
		scanned = fmt.Sprintf("read %d/%d workspaces (%s) · ", p.scan.WorkspacesDone, p.scan.WorkspacesTotal, p.scan.Path)
	}
	return fmt.Sprintf("%sbuilt %d assets from %d workspaces in %d batches · %s",
		scanned, p.built.Assets, p.built.Workspaces, p.built.Batches, now.Sub(p.started).Round(time.Second))
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		p.g.live.Clear()
		p.shown = false
	}
}
