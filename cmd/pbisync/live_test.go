package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

// screen is a small VT100 model: enough of one to replay what pbisync writes to a
// terminal (text, CR, LF, cursor up, erase below, erase line) and read the result.
type screen struct {
	lines    []string
	row, col int
	drawn    []string // every line the live block drew, in order
}

func (s *screen) put(r rune) {
	for len(s.lines) <= s.row {
		s.lines = append(s.lines, "")
	}
	line := []rune(s.lines[s.row])
	for len(line) < s.col {
		line = append(line, ' ')
	}
	if s.col < len(line) {
		line[s.col] = r
	} else {
		line = append(line, r)
	}
	s.lines[s.row] = string(line)
	s.col++
}

var escape = regexp.MustCompile(`^\x1b\[(\d*)([A-Za-z])`)

func (s *screen) replay(b []byte) {
	text := []rune(string(b))
	for i := 0; i < len(text); i++ {
		switch r := text[i]; r {
		case '\n': // a terminal's output processing makes it CR LF
			s.row++
			s.col = 0
		case '\r':
			s.col = 0
		case 0x1b:
			m := escape.FindStringSubmatch(string(text[i:]))
			if m == nil {
				panic("unknown escape at " + string(text[i:]))
			}
			n, _ := strconv.Atoi(m[1])
			switch m[2] {
			case "A":
				s.row = max(0, s.row-max(n, 1))
			case "J":
				s.clearLine()
				if s.row+1 < len(s.lines) {
					s.lines = s.lines[:s.row+1]
				}
			case "K":
				s.clearLine()
			default:
				panic("unknown escape " + m[0])
			}
			i += len([]rune(m[0])) - 1
		default:
			s.put(r)
		}
	}
}

func (s *screen) clearLine() {
	if s.row < len(s.lines) {
		if l := []rune(s.lines[s.row]); s.col < len(l) {
			s.lines[s.row] = string(l[:s.col])
		}
	}
}

func (s *screen) text() string { return strings.TrimRight(strings.Join(s.lines, "\n"), "\n ") }

// recorder replays each write on a screen, as a terminal would.
type recorder struct {
	s   *screen
	raw bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	r.raw.Write(p)
	r.s.replay(p)
	if strings.Contains(string(p), "\x1b[") || !strings.Contains(string(p), "level=") {
		for _, l := range strings.Split(string(p), "\n") {
			if l = strings.TrimPrefix(escape.ReplaceAllString(l, ""), "\r"); l != "" && !strings.Contains(l, "level=") {
				r.s.drawn = append(r.s.drawn, escape.ReplaceAllString(l, ""))
			}
		}
	}
	return len(p), nil
}

func TestLiveTermKeepsLogLines(t *testing.T) {
	rec := &recorder{s: &screen{}}
	lt := &liveTerm{w: rec, width: 80}
	log := slog.New(slog.NewTextHandler(lt, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	lt.Show("progress 1")
	log.Info("first")
	lt.Show("progress 2")
	lt.Show("progress 3")
	log.Info("second")
	lt.Show("Sales Model   Unknown   1s", "Inventory     Completed 2s")
	log.Info("third")
	lt.Show("Sales Model   Completed 3s", "Inventory     Completed 2s")
	lt.Keep()
	log.Info("after")
	want := "level=INFO msg=first\nlevel=INFO msg=second\nlevel=INFO msg=third\nSales Model   Completed 3s\nInventory     Completed 2s\nlevel=INFO msg=after"
	if got := rec.s.text(); got != want {
		t.Errorf("screen:\n%s\nwant:\n%s\nraw: %q", got, want, rec.raw.String())
	}
	lt.Show(strings.Repeat("x", 200))
	if l := rec.s.lines[len(rec.s.lines)-1]; len([]rune(l)) > 80 {
		t.Errorf("a live line wider than the terminal wraps, and its redraw would leave a piece behind: %d columns", len([]rune(l)))
	}
}

// TestSyncOnATerminal syncs with standard error taken for a terminal: every log line
// stays on the screen, and the live line showed real counts before it was cleared.
func TestSyncOnATerminal(t *testing.T) {
	fx := newExitFixture(t)
	rec := &recorder{s: &screen{}}
	var out bytes.Buffer
	g := &globals{stdout: &out, stderr: rec, stdin: strings.NewReader(""), isTerm: true}
	root := &command{name: "pbisync", sub: commands()}
	if code := dispatch(context.Background(), root, []string{"sync", "-f", fx.good}, g, "pbisync"); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, rec.raw.String())
	}
	screen := rec.s.text()
	for _, want := range []string{"msg=\"sync finished\"", "msg=lineage", "msg=\"output written\" output=specs"} {
		if strings.Count(screen, want) != 1 {
			t.Errorf("the screen does not show %s once:\n%s", want, screen)
		}
	}
	for _, l := range rec.s.lines {
		if strings.Contains(l, "built ") {
			t.Errorf("the live line is still on the screen: %q", l)
		}
		if strings.Count(l, "level=") > 1 {
			t.Errorf("two log lines share a screen line: %q", l)
		}
	}
	figures := regexp.MustCompile(`^built [1-9]\d* assets from [1-9]\d* workspaces in [1-9]\d* batches · \d+s$`)
	seen := false
	for _, l := range rec.s.drawn {
		seen = seen || figures.MatchString(l)
	}
	if !seen {
		t.Errorf("no live line with real figures was drawn; drawn: %q", rec.s.drawn)
	}
}

// TestRefreshViewFitsTheScreen follows many refreshes: the view keeps to a bounded
// number of lines, running refreshes first, with a count of every state.
func TestRefreshViewFitsTheScreen(t *testing.T) {
	rec := &recorder{s: &screen{}}
	g := &globals{live: &liveTerm{w: rec, width: 120}}
	v := newRefreshView(g)
	now := time.Now()
	for i := range 40 {
		ev := event.Refresh{Model: spec.Identity{ID: strconv.Itoa(i), Name: fmt.Sprintf("Model %02d", i)}, State: event.RefreshCompleted,
			RequestedAt: now, EndedAt: now.Add(time.Duration(i) * time.Second)}
		if i%10 == 0 {
			ev.State, ev.EndedAt = event.RefreshStarted, time.Time{}
		}
		v.update(ev)
	}
	lines := v.lines()
	if len(lines) > maxViewRows+2 {
		t.Errorf("%d lines for 40 refreshes, want at most %d", len(lines), maxViewRows+2)
	}
	if lines[0] != "40 refreshes: 36 completed, 4 started" || !strings.Contains(lines[1], "started") || !strings.Contains(lines[len(lines)-1], "and 28 more") {
		t.Errorf("view:\n%s", strings.Join(lines, "\n"))
	}
	if got := len(rec.s.lines); got > maxViewRows+2 {
		t.Errorf("the screen holds %d lines; redraws left some behind", got)
	}
}
