package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/pbisync/pbisync/core/engine"
	"github.com/pbisync/pbisync/core/pipeline"
	"github.com/pbisync/pbisync/core/refresh"
)

func runCommand() *command {
	return &command{
		name:    "run",
		summary: "Run the whole pipeline: sync the assets, then the refreshes it configures.",
		usage:   "[-f pipeline.yaml] [--full] [--no-wait]",
		flags: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
			file := fs.String("f", pipeline.DefaultFile, "pipeline file")
			full := fs.Bool("full", false, "scan every workspace, whatever changed since the last sync")
			noWait := fs.Bool("no-wait", false, noWaitUsage)
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected arguments: %s", strings.Join(args, " "))
				}
				return runPipeline(ctx, g, *file, runFlags{refresh: true, full: *full, noWait: *noWait})
			}
		},
	}
}

func syncCommand() *command {
	return &command{
		name: "sync",
		summary: "Sync assets: snapshot the sources, build specs, run translators, write outputs.\n" +
			"With --snapshot FILE it needs no pipeline: it turns a snapshot or raw scanResult file\n" +
			"into specs in JSON Lines (standard output, or --out FILE).",
		usage: "[-f pipeline.yaml] [--full] [--no-wait] [--source NAME] [--specs-out FILE] | --snapshot FILE [--out FILE]",
		flags: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
			file := fs.String("f", pipeline.DefaultFile, "pipeline file")
			snap := fs.String("snapshot", "", "snapshot or raw scanResult file to turn into specs, without a pipeline")
			out := fs.String("out", "-", "with --snapshot: JSON Lines output file ('-' for standard output)")
			full := fs.Bool("full", false, "scan every workspace, whatever changed since the last sync (default: only the workspaces modified since the last complete sync, when the source and state_dir allow it)")
			noWait := fs.Bool("no-wait", false, noWaitUsage)
			source := fs.String("source", "", "sync only the pipeline source of this name")
			specsOut := fs.String("specs-out", "", "also write the final specs, one per line, to FILE; it is replaced only when the sync succeeds (the Dagster bridge's cached state)")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected arguments: %s", strings.Join(args, " "))
				}
				if *snap != "" {
					return syncSnapshotFile(ctx, g, *snap, *out)
				}
				if *source == "" && *specsOut == "" {
					return runPipeline(ctx, g, *file, runFlags{full: *full, noWait: *noWait})
				}
				return syncWithSpecsOut(ctx, g, *file, *source, *specsOut)
			}
		},
	}
}

// syncSnapshotFile runs a built-in pipeline: one snapshot source, one JSON Lines output.
func syncSnapshotFile(ctx context.Context, g *globals, snap, out string) error {
	if _, err := os.Stat(snap); err != nil {
		return usagef("--snapshot: %v", err)
	}
	doc := fmt.Sprintf("version: 1\nname: snapshot\nsources:\n  - snapshot: %q\noutputs:\n  - name: specs\n    jsonl: {path: %q, format: specs}\n", snap, out)
	p, err := pipeline.Parse("(--snapshot)", []byte(doc))
	if err != nil {
		return err
	}
	p.StateDir = "" // an ad hoc sync has no previous sync to compare with
	return execute(ctx, g, p, runFlags{})
}

// noWaitUsage describes --no-wait.
const noWaitUsage = "stop cleanly, instead of waiting, when the next admin API request would exceed one of the service's hourly limits; run again later to go on"

// runFlags are what sync and run were asked for.
type runFlags struct {
	refresh bool // run the configured refreshes after the sync
	full    bool // --full
	noWait  bool // --no-wait
}

func runPipeline(ctx context.Context, g *globals, file string, f runFlags) error {
	p, err := pipeline.Load(file)
	if err != nil {
		return err
	}
	return execute(ctx, g, p, f)
}

func execute(ctx context.Context, g *globals, p *pipeline.Pipeline, f runFlags) error {
	prog := newProgress(g)
	eng, err := engine.FromPipeline(ctx, p, engine.SetupOptions{
		Logger:   g.logger,
		Stdout:   g.stdout,
		Progress: prog.update,
		NoWait:   f.noWait,
	})
	if err != nil {
		return err
	}
	defer eng.Close()
	var outs []*refresh.Outcome
	opts := engine.RunOptions{Full: f.full}
	if f.refresh {
		opts.After = runConfiguredRefreshes(g, eng, p, &outs)
		// Only the specs of the models the refresh selects go into refresh events.
		opts.ModelSpecFor = eng.RefreshPicks(nil)
	}
	// Models are kept for refresh selection: a run that refreshes nothing after
	// its sync needs none.
	opts.NoModels = opts.After == nil
	reported := false
	if opts.After != nil {
		// Say what the sync did before the refreshes start; the outputs are
		// reported at the end, when they have closed.
		opts.Synced = func(res *engine.Result) {
			prog.done()
			reportSync(g, res)
			reported = true
		}
	}
	res, err := eng.Run(ctx, opts)
	prog.done()
	if g.live != nil {
		g.live.Keep() // the refresh view's last state, if one was drawn, stays above the report
	}
	if res != nil {
		// A sync that failed did not finish: no "sync finished" line before its error.
		if !reported && err == nil {
			reportSync(g, res)
		}
		reportOutputs(g, eng, res, err != nil)
	}
	if err != nil {
		return err
	}
	if err := refreshResult(g, outs); err != nil {
		return err
	}
	if n := res.Errors(); n > 0 {
		return &problemsError{n}
	}
	return nil
}

// reportSync tells the user what the sync did.
func reportSync(g *globals, res *engine.Result) {
	s := res.Summary
	types := make([]string, 0, len(s.Assets))
	total := 0
	for t, n := range s.Assets {
		types = append(types, fmt.Sprintf("%d %s", n, t))
		total += n
	}
	sort.Strings(types)
	g.logger.Info("sync finished",
		"workspaces", s.Workspaces, "assets", total, "by_type", strings.Join(types, ", "),
		"unchanged", s.Unchanged, "dropped", s.Dropped, "removed", s.Removed, "problems", res.Errors(), "warnings", len(res.Problems)-res.Errors(),
		"duration", s.EndedAt.Sub(s.StartedAt).Round(time.Millisecond))
	if l := s.Lineage; l != nil && l.Tables > 0 {
		reasons := make([]string, 0, len(l.Reasons))
		for r, n := range l.Reasons {
			reasons = append(reasons, fmt.Sprintf("%s=%d", r, n))
		}
		sort.Strings(reasons)
		g.logger.Info("lineage", "tables", l.Tables, "resolved", l.Resolved, "partial", l.Partial, "non_table_sources", l.NonTable,
			"unresolved", l.Unresolved, "upstream_links", l.Upstream, "reasons", strings.Join(reasons, " "))
	}
	if len(s.Requests) > 0 {
		eps := make([]string, 0, len(s.Requests))
		var n int64
		for ep, c := range s.Requests {
			eps = append(eps, fmt.Sprintf("%s=%d", ep, c))
			n += c
		}
		sort.Strings(eps)
		g.logger.Info("api requests", "total", n, "by_endpoint", strings.Join(eps, " "))
	}
}

// reportOutputs says where each output went and whether it received everything.
func reportOutputs(g *globals, eng *engine.Engine, res *engine.Result, runFailed bool) {
	for _, sr := range res.Sinks {
		where := eng.OutputLocation(sr.Name)
		if sr.Err != nil {
			g.logger.Error("output failed", "output", sr.Name, "to", where, "events", sr.Events, "error", sr.Err)
			continue
		}
		if sr.Aborted {
			g.logger.Warn("output left as it was: the run failed, so it keeps what it held before the run (whole lines a refresh appended stay)", "output", sr.Name, "to", where)
			continue
		}
		if runFailed {
			// Not "written": the run that fed it did not complete.
			g.logger.Warn("output closed after the sync failed", "output", sr.Name, "to", where, "events", sr.Events)
			continue
		}
		g.logger.Info("output written", "output", sr.Name, "to", where, "events", sr.Events, "received_everything", sr.Complete, "restarts", sr.Restarts)
	}
}
