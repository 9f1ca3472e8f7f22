package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pbisync/pbisync/core/engine"
	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/core/translate"
)

// translatorCommand is `pbisync translator`: test a translator on records, scaffold one.
func translatorCommand() *command {
	return &command{
		name:    "translator",
		summary: "Test translators and scaffold new ones.",
		sub:     []*command{translatorTestCommand(), translatorNewCommand()},
	}
}

func translatorTestCommand() *command {
	return &command{
		name: "test",
		summary: "Run a translator over records and show each asset's spec before and after.\n" +
			"--translator is a .wasm file, a Go package directory (built for wasip1) or a YAML file\n" +
			"with one translator entry (a no-code translation, say) or a pipeline (pick with --name).",
		usage: "--snapshot FILE | --records FILE --translator X [--config YAML] [--expect FILE [--update]] [--changed]",
		flags: func(fs *flag.FlagSet, g *globals) func(ctx context.Context, args []string) error {
			snap := fs.String("snapshot", "", "a snapshot or raw scanResult file: its default specs are translated")
			records := fs.String("records", "", "records to translate, JSON Lines of {spec, raw, workspace}")
			target := fs.String("translator", "", "a .wasm file, a Go package directory or a YAML file")
			name := fs.String("name", "", "the translator's name (picks one from a pipeline file)")
			cfg := fs.String("config", "", "the translator's config as YAML or JSON, or @FILE")
			expect := fs.String("expect", "", "fail unless the output records equal this JSON Lines file")
			update := fs.Bool("update", false, "with --expect: write the output records to that file instead of comparing")
			output := fs.String("output", "", "write the output records as JSON Lines to this file")
			changed := fs.Bool("changed", false, "show only the assets the translator changed")
			cacheDir := fs.String("cache-dir", "", "compilation cache (default: the user cache directory)")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected arguments: %s", strings.Join(args, " "))
				}
				if (*records == "") == (*snap == "") || *target == "" {
					return usagef("--translator and one of --snapshot or --records are required")
				}
				var recs []record.Record
				if *snap != "" {
					var probs []record.Problem
					var err error
					if _, err := os.Stat(*snap); err != nil {
						return usagef("--snapshot: %v", err)
					}
					if recs, probs, err = engine.DefaultRecords(*snap); err != nil {
						return err
					}
					for _, p := range probs {
						g.logger.Warn("building the default specs", "problem", p.Error())
					}
				} else {
					f, err := os.Open(*records)
					if err != nil {
						return usagef("--records: %v", err)
					}
					recs, err = translate.ReadRecords(f, *records)
					f.Close()
					if err != nil {
						return err
					}
				}
				config := *cfg
				if file, ok := strings.CutPrefix(config, "@"); ok {
					b, err := os.ReadFile(file)
					if err != nil {
						return usagef("--config: %v", err)
					}
					config = string(b)
				}
				if *update && *expect == "" {
					return usagef("--update needs --expect FILE: the file to write")
				}
				return runTranslatorTest(ctx, g, recs, *target, *name, config, translate.Options{CacheDir: *cacheDir, Logger: g.logger}, *expect, *output, *changed, *update)
			}
		},
	}
}

// runTranslatorTest runs one translator over recs and prints the diff.
func runTranslatorTest(ctx context.Context, g *globals, recs []record.Record, target, name, config string, opts translate.Options, expect, output string, changed, update bool) error {
	entry, err := translate.EntryForTarget(target, name, config)
	if err != nil {
		return err
	}
	rep, err := translate.TestRun(ctx, recs, entry, opts)
	if err != nil {
		return err
	}
	if err := rep.WriteDiff(g.stdout, changed); err != nil {
		return err
	}
	var out bytes.Buffer
	if err := translate.WriteRecords(&out, rep.Output()); err != nil {
		return err
	}
	if output != "" {
		if err := os.WriteFile(output, out.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if expect != "" && update {
		if err := os.WriteFile(expect, out.Bytes(), 0o644); err != nil {
			return fmt.Errorf("--update: %w", err)
		}
		fmt.Fprintf(g.stdout, "\nwrote the output to %s\n", expect)
	} else if expect != "" {
		want, err := os.ReadFile(expect)
		if err != nil {
			return usagef("--expect: %v", err)
		}
		if !bytes.Equal(out.Bytes(), want) {
			return fmt.Errorf("output differs from %s: %s", expect, firstLineDiff(out.Bytes(), want))
		}
		fmt.Fprintf(g.stdout, "\noutput matches %s\n", expect)
	}
	if n := rep.Failed(); n > 0 {
		return &problemsError{n: n}
	}
	return nil
}

func firstLineDiff(got, want []byte) string {
	g, w := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := range max(len(g), len(w)) {
		var a, b []byte
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if !bytes.Equal(a, b) {
			return fmt.Sprintf("line %d\n  got:  %s\n  want: %s", i+1, a, b)
		}
	}
	return "no difference"
}

func translatorNewCommand() *command {
	return &command{
		name:    "new",
		summary: "Scaffold a translator that builds and passes its own test (./test.sh)",
		usage:   "--lang go|rust|assemblyscript|c [--dir DIR] [--sdk PBISYNC_CHECKOUT] NAME",
		flags: func(fs *flag.FlagSet, g *globals) func(ctx context.Context, args []string) error {
			lang := fs.String("lang", "", "language: "+strings.Join(translate.Langs, ", "))
			dir := fs.String("dir", "", "directory to create (default: ./NAME)")
			sdk := fs.String("sdk", "", "a pbisync checkout, for a Go translator outside one")
			return func(ctx context.Context, args []string) error {
				if len(args) != 1 {
					return usagef("want one NAME argument")
				}
				if *lang == "" {
					return usagef("--lang is required (%s)", strings.Join(translate.Langs, ", "))
				}
				d := *dir
				if d == "" {
					d = args[0]
				}
				self, checkout := scaffoldPBISync()
				if _, err := translate.Scaffold(d, *lang, args[0], translate.ScaffoldOptions{SDKDir: *sdk, PBISync: self, Checkout: checkout}); err != nil {
					return usagef("%v", err)
				}
				fmt.Fprintf(g.stdout, "created %s translator %s in %s\nnext: cd %s && ./test.sh\n", *lang, args[0], d, d)
				switch {
				case self != "":
					fmt.Fprintf(g.stdout, "(test.sh runs %s; set PBISYNC to run another pbisync)\n", self)
				case checkout != "":
					fmt.Fprintf(g.stdout, "(test.sh builds pbisync from %s the first time it runs; set PBISYNC to use another)\n", checkout)
				default:
					fmt.Fprintf(g.stdout, "test.sh needs a pbisync binary: build one from a pbisync checkout (go build -o ~/bin/pbisync ./cmd/pbisync)\n"+
						"and put it on PATH, or set PBISYNC=/path/to/pbisync\n")
				}
				return nil
			}
		},
	}
}

// scaffoldPBISync says how a scaffold's test.sh can run this pbisync: its executable,
// or, for a `go run` binary (deleted when it exits), the pbisync checkout around the
// working directory to build one from. Both are empty when neither is known.
func scaffoldPBISync() (self, checkout string) {
	exe, err := os.Executable()
	if err == nil {
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
		if !isGoRunBinary(exe) {
			return exe, ""
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", ""
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			if strings.HasPrefix(string(b), "module github.com/pbisync/pbisync\n") {
				return "", dir
			}
			return "", ""
		}
		if filepath.Dir(dir) == dir {
			return "", ""
		}
	}
}

// isGoRunBinary reports whether exe was built by `go run` (or `go test`) into a
// temporary go-build directory that goes away when it exits.
func isGoRunBinary(exe string) bool {
	tmp, err := filepath.EvalSymlinks(os.TempDir())
	if err != nil {
		tmp = os.TempDir()
	}
	rel, err := filepath.Rel(tmp, exe)
	return err == nil && strings.HasPrefix(rel, "go-build")
}
