package main

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pbisync/pbisync/core/engine"
	"github.com/pbisync/pbisync/core/pipeline"
	"github.com/pbisync/pbisync/core/refresh"
	"github.com/pbisync/pbisync/sdk/event"
)

func refreshCommand() *command {
	return &command{
		name: "refresh",
		summary: "Refresh semantic models and follow each refresh to its end. Models are named by name,\n" +
			"id or key (semantic_model/Sales_Model); with no names, the pipeline's refresh selection.\n" +
			"The pipeline's sources are read to find the models (and translators run, for tags);\n" +
			"refresh events go to its outputs. Ctrl-C cancels the enhanced refreshes started.",
		usage: "[-f pipeline.yaml] [MODEL...]",
		flags: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
			file := fs.String("f", pipeline.DefaultFile, "pipeline file")
			return func(ctx context.Context, args []string) error {
				// Launched by Dagster (Pipes): report to it as well.
				rep, err := openPipes(g)
				if err != nil {
					return err
				}
				if rep == nil {
					return refreshModels(ctx, g, *file, args, nil)
				}
				return rep.run(ctx, g, *file, args)
			}
		},
	}
}

// refreshModels refreshes the models named (or the pipeline's selection) and follows
// them; onEvent, when set, sees every refresh event and outs receives the outcomes.
func refreshModels(ctx context.Context, g *globals, file string, args []string, onEvent func(event.Refresh), outs ...*[]*refresh.Outcome) error {
	p, err := pipeline.Load(file)
	if err != nil {
		return err
	}
	eng, err := engine.FromPipeline(ctx, p, engine.SetupOptions{Logger: g.logger, Stdout: g.stdout})
	if err != nil {
		return err
	}
	defer eng.Close()
	view := newRefreshView(g)
	update := view.update
	if onEvent != nil {
		update = func(ev event.Refresh) { view.update(ev); onEvent(ev) }
	}
	var got []*refresh.Outcome
	_, err = eng.Run(ctx, engine.RunOptions{NoSpecs: true, After: eng.RefreshStep(args, update, &got), ModelSpecFor: eng.RefreshPicks(args)})
	view.done()
	for _, o := range outs {
		*o = got
	}
	if err != nil {
		return err
	}
	return refreshResult(g, got)
}

// runConfiguredRefreshes returns the Run step of `pbisync run`: the pipeline's selection,
// when it has a refresh section that selects models and refreshes after the sync.
func runConfiguredRefreshes(g *globals, eng *engine.Engine, p *pipeline.Pipeline, outs *[]*refresh.Outcome) func(context.Context, []engine.Model, func(...event.Event) error) error {
	cfg := eng.RefreshConfig()
	if p.Refresh.Node == nil || !cfg.Enabled() || !*cfg.AfterSync {
		return nil
	}
	return eng.RefreshStep(nil, newRefreshView(g).update, outs)
}

// refreshResult logs each outcome and turns failures into exit status 3.
func refreshResult(g *globals, outs []*refresh.Outcome) error {
	failed := 0
	for _, o := range outs {
		if o.OK() {
			g.logger.Info("refresh completed", "model", o.Target.Name, "request_id", o.RequestID,
				"duration", o.Duration().Round(time.Second), "polls", o.Polls)
			continue
		}
		failed++
		g.logger.Error("refresh did not complete", "model", o.Target.Name, "request_id", o.RequestID, "state", o.Status, "error", o.Err)
	}
	if failed > 0 {
		return &problemsError{failed}
	}
	return nil
}

// refreshView shows the running refreshes on a terminal, one line each, redrawn as they
// change; elsewhere the refresher's own log lines say the same.
type refreshView struct {
	g     *globals
	mu    sync.Mutex
	rows  map[string]*event.Refresh
	shown bool
}

func newRefreshView(g *globals) *refreshView {
	return &refreshView{g: g, rows: map[string]*event.Refresh{}}
}

func (v *refreshView) update(ev event.Refresh) {
	if v.g.live == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.rows[ev.Model.ID] = &ev
	v.g.live.Show(v.lines()...)
	v.shown = true
}

// maxViewRows bounds the refresh view, so it always fits on the screen (a redraw moves
// the cursor up over it, which cannot reach above the screen's top). Every refresh's
// end is in the log lines above it anyway.
const maxViewRows = 12

// lines are the view's rows: a count by state, then the refreshes still running, then
// the ones that ended last, up to maxViewRows.
func (v *refreshView) lines() []string {
	rows := make([]*event.Refresh, 0, len(v.rows))
	byState := map[event.RefreshState]int{}
	for _, r := range v.rows {
		rows = append(rows, r)
		byState[r.State]++
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.EndedAt.IsZero() != b.EndedAt.IsZero() {
			return a.EndedAt.IsZero() // running first
		}
		if !a.EndedAt.Equal(b.EndedAt) {
			return a.EndedAt.After(b.EndedAt) // then the latest to end
		}
		return a.Model.Name < b.Model.Name
	})
	states := make([]string, 0, len(byState))
	for st, n := range byState {
		states = append(states, fmt.Sprintf("%d %s", n, st))
	}
	sort.Strings(states)
	out := []string{fmt.Sprintf("%d refreshes: %s", len(rows), strings.Join(states, ", "))}
	for i, r := range rows {
		if i == maxViewRows {
			out = append(out, fmt.Sprintf("… and %d more", len(rows)-i))
			break
		}
		out = append(out, fmt.Sprintf("%-32s %-10s %8s  %s", clip(r.Model.Name, 32), r.State, elapsed(r, time.Now()).Round(time.Second), clip(r.Error, 80)))
	}
	return out
}

// done leaves the view's last state on the screen, above what comes next.
func (v *refreshView) done() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.shown {
		v.g.live.Keep()
		v.shown = false
	}
}

// elapsed is how long a refresh has taken so far: while it runs, by the local clock
// since it was asked for; once it ended, by its start and end (the service's own
// times when it sent them), never mixing the two clocks into a negative duration.
func elapsed(r *event.Refresh, now time.Time) time.Duration {
	switch {
	case r.EndedAt.IsZero():
		return max(now.Sub(r.RequestedAt), 0)
	case !r.StartedAt.IsZero() && !r.EndedAt.Before(r.StartedAt):
		return r.EndedAt.Sub(r.StartedAt)
	}
	return max(r.EndedAt.Sub(r.RequestedAt), 0)
}

func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
