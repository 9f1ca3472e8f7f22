package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/pbisync/pbisync/core/engine"
	"github.com/pbisync/pbisync/core/estate"
	"github.com/pbisync/pbisync/core/pipeline"
)

// estateFlags are how impact and ui find an estate: a pipeline's state store, or a
// snapshot file turned into specs in memory.
type estateFlags struct {
	file     *string
	snapshot *string
}

func addEstateFlags(fs *flag.FlagSet) estateFlags {
	return estateFlags{
		file:     fs.String("f", pipeline.DefaultFile, "pipeline file whose state store holds the last sync's estate"),
		snapshot: fs.String("snapshot", "", "read a snapshot or raw scanResult file instead of a state store"),
	}
}

// open returns the estate the flags name and a function that releases it.
func (f estateFlags) open(ctx context.Context, g *globals) (estate.Source, func(), error) {
	if *f.snapshot != "" {
		specs, _, err := engine.SnapshotSpecs(ctx, *f.snapshot, engine.SetupOptions{Logger: g.logger, Stdout: io.Discard})
		if err != nil {
			return nil, nil, err
		}
		return estate.NewMemorySource(specs), func() {}, nil
	}
	p, err := pipeline.Load(*f.file)
	if err != nil {
		return nil, nil, err
	}
	return engine.OpenEstate(ctx, p)
}

func impactCommand() *command {
	return &command{
		name:  "impact",
		usage: "[-f pipeline.yaml | --snapshot FILE] [--upstream] [--depth N] [--format text|json|csv] NAME...",
		summary: "Say what breaks if something changes: everything downstream of warehouse tables (or a\n" +
			"table's column, db.schema.table.column), data sources, models or reports given by key,\n" +
			"id, name or glob pattern, with the path that links each, owners and endorsement. Reads\n" +
			"the last completed sync's estate from the state store; never calls the service.",
		flags: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
			ef := addEstateFlags(fs)
			upstream := fs.Bool("upstream", false, "list what the names read instead of what reads them")
			depth := fs.Int("depth", 0, "stop after this many hops (0: no limit)")
			format := fs.String("format", "text", "text, json or csv")
			return func(ctx context.Context, args []string) error {
				if len(args) == 0 {
					return usagef("give at least one NAME (a key, id, name, pattern or table column)")
				}
				switch *format {
				case "text", "json", "csv":
				default:
					return usagef("--format %q: want text, json or csv", *format)
				}
				src, release, err := ef.open(ctx, g)
				if err != nil {
					return err
				}
				defer release()
				gr, err := src.Graph(ctx)
				if err != nil {
					return err
				}
				res := gr.Impact(estate.ImpactQuery{Names: args, Upstream: *upstream, MaxDepth: *depth})
				if len(res.Starts) == 0 {
					return usagef("nothing in the estate matches %s", strings.Join(res.Unknown, ", "))
				}
				for _, u := range res.Unknown {
					g.logger.Warn("nothing in the estate matches", "name", u)
				}
				switch *format {
				case "json":
					enc := json.NewEncoder(g.stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(res)
				case "csv":
					return estate.WriteCSV(g.stdout, res)
				}
				printImpact(g.stdout, res, *upstream)
				return nil
			}
		},
	}
}

// printImpact writes an impact result for a person: each start, then what it reaches,
// nearest first, with the path.
func printImpact(w io.Writer, res estate.ImpactResult, upstream bool) {
	dir := "Downstream of"
	if upstream {
		dir = "Upstream of"
	}
	var starts []string
	for _, s := range res.Starts {
		starts = append(starts, fmt.Sprintf("%s (%s)", s.Key, s.Type))
	}
	fmt.Fprintf(w, "%s %s: %d asset(s)\n", dir, strings.Join(starts, ", "), len(res.Impacted))
	for _, im := range res.Impacted {
		var extra []string
		if im.WorkspaceName != "" {
			extra = append(extra, "workspace "+im.WorkspaceName)
		}
		if len(im.Owners) > 0 {
			extra = append(extra, "owners "+strings.Join(im.Owners, ", "))
		}
		if im.Endorsement != "" {
			extra = append(extra, im.Endorsement)
		}
		fmt.Fprintf(w, "  %d  %-15s %s", im.Depth, im.Type, im.Key)
		if len(extra) > 0 {
			fmt.Fprintf(w, "  (%s)", strings.Join(extra, "; "))
		}
		fmt.Fprintln(w)
		path := make([]string, len(im.Path))
		for i, k := range im.Path {
			path[i] = k.String()
		}
		fmt.Fprintf(w, "       via %s", strings.Join(path, " > "))
		if len(im.Via) > 0 {
			fmt.Fprintf(w, " (columns %s)", strings.Join(im.Via, ", "))
		}
		fmt.Fprintln(w)
	}
}
