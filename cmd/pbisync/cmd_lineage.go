package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pbisync/pbisync/core/lineage"
	"github.com/pbisync/pbisync/core/lineage/mquery"
	"github.com/pbisync/pbisync/core/snapshot"
)

// lineageCommand resolves the upstream tables of Power Query M files, for trying
// out and debugging lineage without a tenant.
func lineageCommand() *command {
	return &command{
		name:  "lineage",
		usage: "[-shared FILE.m]... FILE.m...",
		summary: "Resolve the warehouse tables that Power Query M expressions read.\n" +
			"Each FILE.m is a table's source, named after the file; -shared files are the model's\n" +
			"shared expressions and parameters. Prints one JSON line per table; syntax errors are\n" +
			"reported as file:line:column.",
		flags: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
			var shared []string
			fs.Func("shared", "a shared expression or parameter file (repeatable); its name is the file name without .m", func(s string) error {
				shared = append(shared, s)
				return nil
			})
			return func(ctx context.Context, args []string) error {
				if len(args) == 0 {
					return usagef("give at least one .m file")
				}
				return runLineage(g, shared, args)
			}
		},
	}
}

func queryName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

func runLineage(g *globals, shared, tables []string) error {
	// A file that cannot be read is an argument error (exit 2), found before any work.
	var unreadable []error
	for _, p := range append(append([]string(nil), shared...), tables...) {
		if _, err := os.Stat(p); err != nil {
			unreadable = append(unreadable, err)
		}
	}
	if len(unreadable) > 0 {
		return &usageError{msg: errors.Join(unreadable...).Error()}
	}
	m := &snapshot.SemanticModel{Name: "cli"}
	problems := 0
	read := func(path string) (string, bool) {
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(g.stderr, "%v\n", err)
			problems++
			return "", false
		}
		src := string(data)
		if _, err := mquery.Parse(src); err != nil {
			var se *mquery.SyntaxError
			if errors.As(err, &se) {
				fmt.Fprintf(g.stderr, "%s:%d:%d: %s\n", path, se.Pos.Line, se.Pos.Col, se.Msg)
			} else {
				fmt.Fprintf(g.stderr, "%s: %v\n", path, err)
			}
			problems++
		}
		return src, true
	}
	for _, p := range shared {
		if src, ok := read(p); ok {
			m.Expressions = append(m.Expressions, snapshot.Expression{Name: queryName(p), Expression: src})
		}
	}
	for _, p := range tables {
		if src, ok := read(p); ok {
			m.Tables = append(m.Tables, snapshot.Table{Name: queryName(p), Source: []string{src}})
		}
	}
	l, stats := lineage.Resolve(m)
	enc := json.NewEncoder(g.stdout)
	for _, t := range l.Tables {
		if err := enc.Encode(t); err != nil {
			return err
		}
	}
	g.logger.Info("lineage resolved", "stats", stats)
	if problems > 0 {
		return &problemsError{n: problems}
	}
	return nil
}
