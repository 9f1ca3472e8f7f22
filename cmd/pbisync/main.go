// Command pbisync syncs a Power BI estate into catalogs and orchestrators: it pulls
// workspace snapshots, builds asset specs with lineage, runs WASM translators over them,
// writes the results through sink plugins, and refreshes semantic models.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/sinkhost"
)

// Exit codes, documented in the README.
const (
	exitOK          = 0
	exitError       = 1 // the command failed
	exitUsage       = 2 // bad flags, arguments or pipeline file
	exitProblems    = 3 // the command finished, but some assets or refreshes had problems
	exitInterrupted = 130
)

// command is one (sub)command of the CLI.
type command struct {
	name    string
	summary string
	usage   string // after "pbisync <name> "
	// flags declares the command's flags on fs and returns the function that runs it.
	flags func(fs *flag.FlagSet, g *globals) func(ctx context.Context, args []string) error
	sub   []*command
	// hidden commands are left out of the help (pbisync runs them itself).
	hidden bool
}

// globals are the flags every command accepts, and the CLI's streams.
type globals struct {
	logFormat string
	logLevel  string
	stdout    io.Writer
	stderr    io.Writer
	stdin     io.Reader
	logger    *slog.Logger
	isTerm    bool
}

// usageError marks errors caused by how the command was called.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// problemsError marks a command that finished with per-item problems already reported.
type problemsError struct{ n int }

func (e *problemsError) Error() string { return fmt.Sprintf("finished with %d problem(s)", e.n) }

func commands() []*command {
	return []*command{
		// Each area registers its command here; the command lives in cmd_<area>.go.
		runCommand(),
		syncCommand(),
		validateCommand(),
		snapshotCommand(),
		refreshCommand(),
		emulateCommand(),
		serveCommand(),
		lineageCommand(),
		impactCommand(),
		uiCommand(),
		translatorCommand(),
		pluginCommand(),
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	// os.Exit skips deferred calls: end any sink plugin still running first.
	sinkhost.KillAll()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &globals{stdout: stdout, stderr: stderr, stdin: stdin, isTerm: isTerminal(stderr)}
	root := &command{name: "pbisync", sub: commands()}
	code := dispatch(ctx, root, args, g, "pbisync")
	if code != exitOK && ctx.Err() != nil {
		return exitInterrupted
	}
	return code
}

func dispatch(ctx context.Context, c *command, args []string, g *globals, path string) int {
	if c.sub != nil {
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			printCommands(g.stdout, c, path)
			if len(args) == 0 {
				return exitUsage
			}
			return exitOK
		}
		for _, s := range c.sub {
			if s.name == args[0] {
				return dispatch(ctx, s, args[1:], g, path+" "+s.name)
			}
		}
		fmt.Fprintf(g.stderr, "%s: unknown command %q\n\n", path, args[0])
		printCommands(g.stderr, c, path)
		return exitUsage
	}
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(g.stderr)
	fs.StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	cpuProfile := fs.String("cpu-profile", "", "write a CPU profile of the command to this file (for go tool pprof)")
	memLimit := fs.String("memory-limit", defaultMemoryLimit, "soft limit of the Go heap (e.g. 350MiB, 2GiB; off for none); the GOMEMLIMIT variable wins")
	runFn := c.flags(fs, g)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s %s\n\n%s\n\nFlags:\n", path, c.usage, c.summary)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(g.stdout)
			fs.Usage()
			return exitOK
		}
		return exitUsage
	}
	logger, err := newLogger(g)
	if err != nil {
		fmt.Fprintf(g.stderr, "%s: %v\n", path, err)
		return exitUsage
	}
	g.logger = logger
	if err := setMemoryLimit(*memLimit); err != nil {
		fmt.Fprintf(g.stderr, "%s: --memory-limit: %v\n", path, err)
		return exitUsage
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(g.stderr, "%s: --cpu-profile: %v\n", path, err)
			return exitUsage
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(g.stderr, "%s: --cpu-profile: %v\n", path, err)
			return exitUsage
		}
		defer pprof.StopCPUProfile()
	}
	if err := runFn(ctx, fs.Args()); err != nil {
		var ue *usageError
		var pe *problemsError
		switch {
		case errors.As(err, &ue):
			fmt.Fprintf(g.stderr, "%s: %v\n", path, err)
			return exitUsage
		case errors.As(err, &pe):
			fmt.Fprintf(g.stderr, "%s: %v\n", path, err)
			return exitProblems
		case ctx.Err() != nil:
			fmt.Fprintf(g.stderr, "%s: interrupted\n", path)
			return exitInterrupted
		default:
			fmt.Fprintf(g.stderr, "%s: %v\n", path, err)
			var ce *config.Error
			if errors.As(err, &ce) {
				return exitUsage
			}
			return exitError
		}
	}
	return exitOK
}

func printCommands(w io.Writer, c *command, path string) {
	fmt.Fprintf(w, "Usage: %s <command> [flags]\n\nCommands:\n", path)
	for _, s := range c.sub {
		if s.hidden {
			continue
		}
		fmt.Fprintf(w, "  %-12s %s\n", s.name, firstLine(s.summary))
	}
	fmt.Fprintf(w, "\nRun '%s <command> --help' for a command's flags.\n", path)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func newLogger(g *globals) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, usagef("--log-level: %v", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch g.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(g.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(g.stderr, opts)), nil
	}
	return nil, usagef("--log-format must be text or json, got %q", g.logFormat)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// defaultMemoryLimit keeps a sync of a large tenant near this much heap: pbisync streams
// batches, so what it holds is a few batches, and without a limit the garbage collector
// lets the heap grow to twice that before it collects.
const defaultMemoryLimit = "350MiB"

// setMemoryLimit applies a soft heap limit unless GOMEMLIMIT already set one.
func setMemoryLimit(v string) error {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok || v == "off" || v == "0" {
		return nil
	}
	// Longer units first: "MiB" also ends in "B".
	for _, u := range []struct {
		suffix string
		mul    int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if num, ok := strings.CutSuffix(v, u.suffix); ok {
			n, err := strconv.ParseInt(num, 10, 64)
			if err != nil || n <= 0 {
				break
			}
			debug.SetMemoryLimit(n * u.mul)
			return nil
		}
	}
	return fmt.Errorf("want a size such as 350MiB or 2GiB, or off; got %q", v)
}
