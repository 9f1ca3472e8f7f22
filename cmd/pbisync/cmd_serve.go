package main

import (
	"context"
	"flag"
	"strings"

	"github.com/pbisync/pbisync/core/engine"
	"github.com/pbisync/pbisync/core/pipeline"
	"github.com/pbisync/pbisync/core/serve"
)

func serveCommand() *command {
	return &command{
		name: "serve",
		summary: "Run as a service: scheduled syncs and refreshes, and HTTP endpoints to trigger them.\n" +
			"With the pipeline's `serve` section: cron schedules for syncs and refreshes;\n" +
			"POST /v1/upstream-changed (bearer token) to refresh the models downstream of changed\n" +
			"tables; POST /v1/sync; GET /v1/refreshes, /healthz and /metrics (Prometheus). SIGTERM or\n" +
			"Ctrl-C shuts down gracefully; refreshes still running are followed again after a restart.",
		usage: "[-f pipeline.yaml] [--addr 127.0.0.1:8089]",
		flags: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
			file := fs.String("f", pipeline.DefaultFile, "pipeline file")
			addr := fs.String("addr", "", "listen address (overrides serve.addr)")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected arguments: %s", strings.Join(args, " "))
				}
				p, err := pipeline.Load(*file)
				if err != nil {
					return err
				}
				cfg, err := serve.Decode(p.Serve)
				if err != nil {
					return err
				}
				if *addr != "" {
					cfg.Addr = *addr
				}
				eng, err := engine.FromPipeline(ctx, p, engine.SetupOptions{Logger: g.logger, Stdout: g.stdout})
				if err != nil {
					return err
				}
				defer eng.Close()
				srv := serve.New(cfg, eng, g.logger)
				return srv.Run(ctx, func(addr string) {
					g.logger.Info("pbisync serve is ready", "addr", "http://"+addr, "health", "http://"+addr+"/healthz")
				})
			}
		},
	}
}
