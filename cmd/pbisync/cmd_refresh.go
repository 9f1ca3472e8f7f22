package main

import (
	"context"
	"flag"
	"fmt"
	"io"
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
	_, err = eng.Run(ctx, engine.RunOptions{NoSpecs: true, After: eng.RefreshStep(args, update, &got)})
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
				"duration", o.EndedAt.Sub(o.RequestedAt).Round(time.Second), "polls", o.Polls)
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
	lines int
}

func newRefreshView(g *globals) *refreshView {
	return &refreshView{g: g, rows: map[string]*event.Refresh{}}
}

func (v *refreshView) update(ev event.Refresh) {
	if !v.g.isTerm || v.g.logFormat != "text" {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.rows[ev.Model.ID] = &ev
	v.draw(v.g.stderr)
}

func (v *refreshView) draw(w io.Writer) {
	if v.lines > 0 {
		fmt.Fprintf(w, "\033[%dA", v.lines)
	}
	rows := make([]*event.Refresh, 0, len(v.rows))
	for _, r := range v.rows {
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Model.Name < rows[j].Model.Name })
	for _, r := range rows {
		since := r.RequestedAt
		end := r.EndedAt
		if end.IsZero() {
			end = time.Now()
		}
		fmt.Fprintf(w, "\r\033[K%-32s %-10s %8s  %s\n", clip(r.Model.Name, 32), r.State, end.Sub(since).Round(time.Second), clip(r.Error, 80))
	}
	v.lines = len(rows)
}

func (v *refreshView) done() {}

func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
