package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/pbisync/pbisync/core/engine"
	"github.com/pbisync/pbisync/core/pipeline"
	"github.com/pbisync/pbisync/core/serve"
)

func validateCommand() *command {
	return &command{
		name:    "validate",
		summary: "Check a pipeline file without running it: every section, every component's config.",
		usage:   "[-f pipeline.yaml]",
		flags: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
			file := fs.String("f", pipeline.DefaultFile, "pipeline file")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected arguments: %s", strings.Join(args, " "))
				}
				p, err := pipeline.Load(*file)
				if err != nil {
					return err
				}
				if err := engine.Validate(ctx, p, engine.SetupOptions{Logger: g.logger}); err != nil {
					return err
				}
				if p.Serve.Node != nil {
					if _, err := serve.Decode(p.Serve); err != nil {
						return err
					}
				}
				fmt.Fprintf(g.stdout, "%s: ok (%d source(s), %d translator(s), %d output(s))\n",
					*file, len(p.Sources), len(p.Translators), len(p.Outputs))
				return nil
			}
		},
	}
}
