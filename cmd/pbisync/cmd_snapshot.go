package main

import (
	"context"
	"flag"
	"strings"

	"github.com/pbisync/pbisync/core/engine"
	"github.com/pbisync/pbisync/core/pipeline"
)

func snapshotCommand() *command {
	save := &command{
		name: "save",
		summary: "Take a snapshot of the pipeline's sources and save it to a file, so later syncs and\n" +
			"tests can run offline from it (a source `snapshot: FILE`, or `pbisync sync --snapshot FILE`).",
		usage: "[-f pipeline.yaml] [--source NAME] -o FILE",
		flags: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
			file := fs.String("f", pipeline.DefaultFile, "pipeline file")
			source := fs.String("source", "", "name of the source to snapshot (default: all of them)")
			out := fs.String("o", "", "file to write ('-' for standard output)")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected arguments: %s", strings.Join(args, " "))
				}
				if *out == "" {
					return usagef("-o FILE is required")
				}
				p, err := pipeline.Load(*file)
				if err != nil {
					return err
				}
				prog := newProgress(g)
				n, err := engine.SaveSnapshot(ctx, p, engine.SetupOptions{Logger: g.logger, Stdout: g.stdout, Progress: prog.update}, *source, *out)
				prog.done()
				if err != nil {
					return err
				}
				g.logger.Info("snapshot saved", "to", *out, "workspaces", n)
				return nil
			}
		},
	}
	return &command{name: "snapshot", summary: "Save snapshots of a tenant.", sub: []*command{save}}
}
