package translate

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
)

// outputCaps bound what a translator's guests may log, through log calls and through
// stdout and stderr together: limits.max_log_lines lines per asset and
// limits.max_run_lines per run (the translator's lifetime). The first lines are logged,
// the rest are counted and reported in one line per Translate call.
type outputCaps struct {
	perAsset, perRun int
	logged           atomic.Int64
	dropped          atomic.Int64
	reported         atomic.Int64 // dropped lines already reported
}

// admit counts one line of the current asset (b may be nil: an instance starting) and
// says whether to log it.
func (c *outputCaps) admit(b *batch) bool {
	if b != nil {
		b.lines++
		if b.lines > c.perAsset {
			c.dropped.Add(1)
			return false
		}
	}
	if c.logged.Add(1) > int64(c.perRun) {
		c.dropped.Add(1)
		return false
	}
	return true
}

// report logs how many lines were dropped since the last report.
func (c *outputCaps) report(logger *slog.Logger, name string) {
	d := c.dropped.Load()
	if prev := c.reported.Swap(d); d > prev {
		logger.Warn("translator output not logged: it passed limits.max_log_lines per asset or limits.max_run_lines per run",
			"translator", name, "lines", d-prev, "max_log_lines", c.perAsset, "max_run_lines", c.perRun)
	}
}

// guestOutput receives one instance's stdout and stderr: it logs each line its caps
// admit and keeps the last bytes for error messages (a Go guest's panic lands there).
type guestOutput struct {
	mu     sync.Mutex
	logger *slog.Logger
	name   string
	caps   *outputCaps
	b      *batch // the call running on the instance; nil while it starts
	line   []byte
	last   []byte
}

const outputTail = 512

func (g *guestOutput) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := len(p)
	g.keepTail(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		room := maxLogLine - len(g.line)
		if len(chunk) > room { // a line longer than maxLogLine is cut into lines
			g.line = append(g.line, chunk[:room]...)
			g.flush()
			p = p[room:]
			continue
		}
		g.line = append(g.line, chunk...)
		if i < 0 {
			break
		}
		g.flush()
		p = p[i+1:]
	}
	return n, nil
}

func (g *guestOutput) flush() {
	if g.caps.admit(g.b) {
		g.logger.Info(strings.ToValidUTF8(string(g.line), "\uFFFD"), "translator", g.name, "stream", "guest output")
	}
	g.line = g.line[:0]
}

func (g *guestOutput) keepTail(p []byte) {
	if len(p) > outputTail {
		p = p[len(p)-outputTail:]
	}
	for _, c := range p {
		if c == '\n' {
			c = ' '
		}
		g.last = append(g.last, c)
	}
	if len(g.last) > 2*outputTail {
		g.last = append(g.last[:0], g.last[len(g.last)-outputTail:]...)
	}
}

func (g *guestOutput) tail() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	t := g.last
	if len(t) > outputTail {
		t = t[len(t)-outputTail:]
	}
	return strings.TrimSpace(strings.ToValidUTF8(string(t), "\uFFFD"))
}
