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
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"syscall"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/engine"
	"github.com/pbisync/pbisync/core/sinkhost"
	"github.com/pbisync/pbisync/internal/memlimit"
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
	// live is standard error on a terminal with text logs: log lines and a live
	// block (progress, refresh view) share it. Nil otherwise.
	live *liveTerm
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
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help" {
			if len(args) == 0 {
				printCommands(g.stderr, c, path)
				return exitUsage
			}
			printCommands(g.stdout, c, path)
			return exitOK
		}
		if c.name == "pbisync" && (args[0] == "--version" || args[0] == "-version" || args[0] == "version") {
			fmt.Fprintln(g.stdout, "pbisync", versionString())
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
	memProfile := fs.String("mem-profile", "", "write heap profiles of the command to this file (at its end) and FILE.peak (at its largest heap), for go tool pprof")
	memLimit := fs.String("memory-limit", defaultMemoryLimit, "soft limit of the Go heap (e.g. 240MiB, 2GiB; off for none); the GOMEMLIMIT variable wins. The default rises while the live heap needs more; a value given here does not")
	runFn := c.flags(fs, g)
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(g.stdout, fs, c, path)
			return exitOK
		}
		// The flag package has printed what was wrong; say where the help is.
		fmt.Fprintf(g.stderr, "Run '%s --help' for its flags.\n", path)
		return exitUsage
	}
	logger, err := newLogger(g)
	if err != nil {
		fmt.Fprintf(g.stderr, "%s: %v\n", path, err)
		return exitUsage
	}
	g.logger = logger
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "memory-limit" })
	if err := setMemoryLimit(*memLimit, !given); err != nil {
		fmt.Fprintf(g.stderr, "%s: --memory-limit: %v\n", path, err)
		return exitUsage
	}
	if dir := os.Getenv("PBISYNC_PROFILE_DIR"); dir != "" {
		// Every pbisync process profiles itself, sink plugins included (the host starts
		// them without flags): cpu-<command>-<pid>.prof and heap-<command>-<pid>.prof.
		name := strings.ReplaceAll(path, " ", "-") + "-" + strconv.Itoa(os.Getpid())
		if *cpuProfile == "" {
			*cpuProfile = filepath.Join(dir, "cpu-"+name+".prof")
		}
		if *memProfile == "" {
			*memProfile = filepath.Join(dir, "heap-"+name+".prof")
		}
	}
	if dir := os.Getenv("PBISYNC_PROFILE_DIR"); dir != "" && os.Getenv("PBISYNC_TRACE") != "" {
		// An execution trace too (go tool trace): where a sync waits, which a CPU
		// profile does not show.
		name := strings.ReplaceAll(path, " ", "-") + "-" + strconv.Itoa(os.Getpid())
		f, err := os.Create(filepath.Join(dir, "trace-"+name+".out"))
		if err == nil && trace.Start(f) == nil {
			defer f.Close()
			defer trace.Stop()
		}
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
	if *memProfile != "" {
		h, err := startHeapProfile(*memProfile)
		if err != nil {
			fmt.Fprintf(g.stderr, "%s: --mem-profile: %v\n", path, err)
			return exitUsage
		}
		defer func() {
			if err := h.Stop(); err != nil {
				fmt.Fprintf(g.stderr, "%s: --mem-profile: %v\n", path, err)
			}
		}()
	}
	err = runFn(ctx, positional)
	if err == nil {
		return exitOK
	}
	code := exitCode(ctx, err)
	if code == exitInterrupted {
		fmt.Fprintf(g.stderr, "%s: interrupted\n", path)
		return code
	}
	printError(g.stderr, path, err)
	return code
}

// exitCode maps a command's error to the exit status the README documents.
func exitCode(ctx context.Context, err error) int {
	var ue *usageError
	var pe *problemsError
	var ce *config.Error
	var se *engine.SelectionError
	switch {
	case errors.As(err, &ue), errors.As(err, &se):
		return exitUsage
	case errors.As(err, &pe):
		return exitProblems
	case ctx.Err() != nil:
		return exitInterrupted
	case errors.As(err, &ce):
		return exitUsage
	}
	return exitError
}

// printError writes a command's error after the command's name, once; a list of
// problems (errors.Join, as validate and sync report a pipeline's) gets a line each.
func printError(w io.Writer, path string, err error) {
	list := problemList(err)
	if len(list) < 2 {
		fmt.Fprintf(w, "%s: %v\n", path, err)
		return
	}
	fmt.Fprintf(w, "%s: %d problems:\n", path, len(list))
	for _, e := range list {
		fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(e.Error(), "\n", "\n  "))
	}
}

// problemList flattens nested errors.Join lists.
func problemList(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, problemList(e)...)
	}
	return out
}

// parseInterspersed parses flags wherever they are among the positional arguments, so
// `pbisync refresh "Sales Model" -f x.yaml` works; after "--" everything is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var tail []string
	for i, a := range args {
		if a == "--" {
			args, tail = args[:i], args[i+1:]
			break
		}
	}
	// The flag package prints usage on its own when parsing fails; we print it, once.
	fs.Usage = func() {}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	return append(positional, tail...), nil
}

func printUsage(w io.Writer, fs *flag.FlagSet, c *command, path string) {
	fmt.Fprintf(w, "Usage: %s %s\n\n%s\n\nFlags:\n", path, c.usage, c.summary)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

func printCommands(w io.Writer, c *command, path string) {
	fmt.Fprintf(w, "Usage: %s <command> [flags]\n\nCommands:\n", path)
	for _, s := range c.sub {
		if s.hidden {
			continue
		}
		fmt.Fprintf(w, "  %-12s %s\n", s.name, firstSentence(s.summary))
	}
	fmt.Fprintf(w, "\nRun '%s <command> --help' for a command's flags.\n", path)
	if c.name == "pbisync" {
		fmt.Fprintf(w, "Run 'pbisync --version' for the version.\n")
	}
}

// firstSentence is a summary's first sentence, for the list of commands: whole, even
// when the summary wraps it over lines.
func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}

// version is set at build time with -ldflags "-X main.version=v1.2.3"; otherwise the
// module version and VCS revision Go recorded are used.
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	var rev, modified string
	for _, st := range bi.Settings {
		switch st.Key {
		case "vcs.revision":
			rev = st.Value
		case "vcs.modified":
			if st.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " " + rev + modified
	}
	return v + " " + bi.GoVersion
}

func newLogger(g *globals) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, usagef("--log-level: %v", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch g.logFormat {
	case "text":
		if g.isTerm {
			g.live = newLiveTerm(g.stderr)
			return slog.New(slog.NewTextHandler(g.live, opts)), nil
		}
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
// batches, so what it holds is a few batches (and what grows with the tenant: an index
// of its assets), and without a limit the garbage collector lets the heap grow to twice
// that before it collects. The default is raised while the live heap nears it (a tenant
// with larger batches, or a larger tenant: internal/memlimit), so that the collector
// keeps room to work; a limit given with --memory-limit is kept as given.
const defaultMemoryLimit = "240MiB"

// setMemoryLimit applies a soft heap limit unless GOMEMLIMIT already set one; follow
// lets it rise with the live heap (the default's).
func setMemoryLimit(v string, follow bool) error {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok || v == "off" || v == "0" {
		memlimit.Stop()
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
			if follow {
				memlimit.Follow(n * u.mul)
			} else {
				memlimit.Stop()
				debug.SetMemoryLimit(n * u.mul)
			}
			return nil
		}
	}
	return fmt.Errorf("want a size such as 240MiB or 2GiB, or off; got %q", v)
}
