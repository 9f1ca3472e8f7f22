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
}

func newProgress(g *globals) *progress { return &progress{g: g, started: time.Now()} }

func (p *progress) update(pr engine.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.g.isTerm && p.g.logFormat == "text" {
		if now.Sub(p.last) < 100*time.Millisecond {
			return
		}
		p.last = now
		fmt.Fprintf(p.g.stderr, "\r\033[Kworkspaces %d · batches %d · assets %d · %s",
			pr.Workspaces, pr.Batches, pr.Assets, now.Sub(p.started).Round(time.Second))
		p.shown = true
		return
	}
	if now.Sub(p.last) < 5*time.Second {
		return
	}
	p.last = now
	p.g.logger.Info("progress", "workspaces", pr.Workspaces, "batches", pr.Batches, "assets", pr.Assets)
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.g.stderr, "\r\033[K")
		p.shown = false
	}
}
