package main

import (
	"context"
	"errors"
	"flag"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/pbisync/pbisync/core/estate"
)

func uiCommand() *command {
	return &command{
		name:  "ui",
		usage: "[-f pipeline.yaml | --snapshot FILE] [--addr 127.0.0.1:8090]",
		summary: "Browse the estate offline: search, a node's page, its lineage graph and impact, and\n" +
			"recent refreshes, in a web UI (and its read-only JSON API under /api/) on a local address.\n" +
			"Reads the last completed sync from the state store, or a snapshot file.",
		flags: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
			ef := addEstateFlags(fs)
			addr := fs.String("addr", "127.0.0.1:8090", "listen address")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected arguments: %s", strings.Join(args, " "))
				}
				src, release, err := ef.open(ctx, g)
				if err != nil {
					return err
				}
				defer release()
				if _, err := src.Graph(ctx); err != nil {
					return err
				}
				ln, err := net.Listen("tcp", *addr)
				if err != nil {
					return usagef("--addr %s: %v", *addr, err)
				}
				srv := &http.Server{Handler: estate.Handler(src, g.logger), ReadHeaderTimeout: 10 * time.Second}
				g.logger.Info("pbisync ui is ready", "url", "http://"+ln.Addr().String()+"/")
				go func() {
					<-ctx.Done()
					shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
					defer cancel()
					srv.Shutdown(shut)
				}()
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					return err
				}
				return ctx.Err()
			}
		},
	}
}
