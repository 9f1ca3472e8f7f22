package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/pbisync/pbisync/internal/memlimit"
	"github.com/pbisync/pbisync/plugins/sinks/datahub"
	"github.com/pbisync/pbisync/plugins/sinks/jsonl"
	"github.com/pbisync/pbisync/plugins/sinks/openlineage"
	"github.com/pbisync/pbisync/plugins/sinks/sqlite"
	"github.com/pbisync/pbisync/sdk/sink"
)

// builtinSinks are the sinks this binary serves as `pbisync plugin sink <name>`;
// core/sinkhost re-executes pbisync this way for the built-in outputs.
var builtinSinks = map[string]func() sink.Sink{
	"datahub":     func() sink.Sink { return datahub.New() },
	"jsonl":       func() sink.Sink { return jsonl.NewRaw() },
	"openlineage": func() sink.Sink { return openlineage.New() },
	"sqlite":      func() sink.Sink { return sqlite.New() },
}

// pluginCommand is the hidden `pbisync plugin` command: pbisync runs itself in plugin
// mode to serve its built-in sinks, so the single binary works without other files.
func pluginCommand() *command {
	return &command{
		name:    "plugin",
		hidden:  true,
		summary: "serve a built-in plugin (used by pbisync itself)",
		sub: []*command{{
			name:    "sink",
			summary: "serve a built-in sink plugin over go-plugin's handshake",
			usage:   "<name>",
			flags: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
				return func(ctx context.Context, args []string) error {
					if len(args) != 1 {
						return usagef("want one sink name: %s", strings.Join(builtinSinkNames(), ", "))
					}
					newSink, ok := builtinSinks[args[0]]
					if !ok {
						return usagef("unknown built-in sink %q (built in: %s)", args[0], strings.Join(builtinSinkNames(), ", "))
					}
					if os.Getenv(sink.Handshake.MagicCookieKey) != sink.Handshake.MagicCookieValue {
						return fmt.Errorf("this command is run by pbisync itself to serve the %s sink; list it under outputs: in pipeline.yaml instead", args[0])
					}
					memlimit.Stop() // a plugin keeps the limit the sink kit gives it
					sink.Serve(newSink())
					return nil
				}
			},
		}},
	}
}

func builtinSinkNames() []string {
	var names []string
	for n := range builtinSinks {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
