package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pbisync/pbisync/core/assets"
	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/lineage"
	"github.com/pbisync/pbisync/core/pipeline"
	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/core/refresh"
	"github.com/pbisync/pbisync/core/sinkhost"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/core/translate"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/spec"
)

// SetupOptions are what the CLI hands to FromPipeline besides the pipeline itself.
type SetupOptions struct {
	Logger   *slog.Logger
	Stdout   io.Writer // where "-" outputs write
	Progress func(Progress)
	// CacheDir holds compiled translators; empty means the user cache directory.
	CacheDir string
	// Executable serves the built-in sinks (`Executable plugin sink NAME`); empty means
	// the running binary, which is pbisync.
	Executable string
	// NoWait stops a sync cleanly when the next admin request would exceed one of the
	// service's limits, instead of waiting for the quota (`--no-wait`).
	NoWait bool
}

// setup collects what FromPipeline starts, so it can all be stopped on error.
type setup struct {
	p       *pipeline.Pipeline
	opts    SetupOptions
	dir     string // the pipeline file's directory: relative paths start there
	closers []func()
	where   map[string]string // output name -> location, for the report
	dryRun  bool
	keys    *lineage.KeyMapper // upstream table keys, from the lineage section
}

// resolve makes a path from the pipeline relative to the pipeline file's directory.
func (s *setup) resolve(path string) string {
	if path == "" || path == "-" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(s.dir, path)
}

func (s *setup) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

func newSetup(p *pipeline.Pipeline, opts SetupOptions) *setup {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if _, isFile := opts.Stdout.(*os.File); !isFile {
		// Sink plugins hand a file their standard output; any other writer is fed by
		// one copying goroutine per plugin, so it must take one write at a time.
		opts.Stdout = &lockedWriter{w: opts.Stdout}
	}
	dir := "."
	if p.File != "" && p.File[0] != '(' {
		dir = filepath.Dir(p.File)
	}
	return &setup{p: p, opts: opts, dir: dir, where: map[string]string{}}
}

// FromPipeline builds an engine for a pipeline: it decodes and checks every section and
// starts what the sources and outputs need (an in-process emulator, sink plugins).
// Engine.Close stops them; Sync closes the outputs itself.
func FromPipeline(ctx context.Context, p *pipeline.Pipeline, opts SetupOptions) (*Engine, error) {
	s := newSetup(p, opts)
	e, err := s.build(ctx)
	if err != nil {
		s.close()
		return nil, err
	}
	return e, nil
}

// Validate runs every check a sync runs before it contacts the service, and reports
// every error: sections decoded, translators loaded (then closed), outputs' plugins
// started for their handshake and config check (which opens no output). It writes
// nothing and calls no API. opts gives the logger (for warnings), cache and executable.
func Validate(ctx context.Context, p *pipeline.Pipeline, opts SetupOptions) error {
	s := newSetup(p, opts)
	s.dryRun = true
	defer s.close()
	_, err := s.build(ctx)
	return err
}

// build decodes and checks every section, and reports every problem it finds rather
// than the first: `pbisync validate` and a sync refuse a pipeline with the same list.
func (s *setup) build(ctx context.Context) (*Engine, error) {
	e := &Engine{
		Pipeline:   s.p.Name,
		Logger:     s.opts.Logger,
		Progress:   s.opts.Progress,
		NewBuilder: s.newBuilder,
		Keys:       assets.NewKeyIndex(),
		setup:      s,
	}
	var errs []error
	for _, src := range s.p.Sources {
		source, err := s.source(ctx, src)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if source != nil {
			e.Sources = append(e.Sources, source)
		}
	}
	if err := s.translators(ctx, e); err != nil {
		errs = append(errs, err)
	}
	keys, err := lineage.DecodeKeyMapper(s.p.Lineage)
	if err != nil {
		errs = append(errs, err)
	}
	s.keys = keys
	if resolver, err := lineage.DecodeResolver(s.p.Lineage); err != nil {
		errs = append(errs, err)
	} else {
		e.Lineage = resolver.ResolveSnapshot
	}
	if s.p.Refresh.Node != nil {
		rc, err := refresh.Decode(s.p.Refresh)
		if err != nil {
			errs = append(errs, err)
		}
		e.refresh = rc
	}
	if len(s.p.Outputs) == 0 {
		errs = append(errs, &config.Error{Pos: config.Pos{File: s.p.File}, Msg: "outputs: at least one output is needed"})
	}
	names := map[string]bool{}
	var openers []func(context.Context) (Sink, error)
	okOutputs := make([]bool, len(s.p.Outputs))
	for i, n := range s.p.Outputs {
		open, name, err := s.output(ctx, n, i)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if names[name] {
			errs = append(errs, config.Errorf(n, "output name %q is used twice", name))
			continue
		}
		names[name] = true
		okOutputs[i] = true
		if e.outputFP == nil {
			e.outputFP = map[string]string{}
		}
		e.outputFP[name] = outputFingerprint(n)
		openers = append(openers, open)
	}
	if len(errs) > 0 && !s.dryRun {
		// A sync refuses the pipeline: say all that validate would, sinks' own
		// config checks included (a sync otherwise learns those when it opens them).
		for i, n := range s.p.Outputs {
			if i < len(okOutputs) && okOutputs[i] {
				if err := s.probe(n); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// The state store is opened last: a pipeline with errors leaves it untouched.
	if s.p.StateDir != "" && !s.dryRun {
		st, err := state.Open(ctx, s.resolve(s.p.StateDir))
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, func() { st.Close() })
		e.State = st
		e.Journal = NewJournal(st, s.p.Name)
	}
	if !s.dryRun {
		s.planQuotas(e)
	}
	e.OpenSinks = func(ctx context.Context) ([]Sink, error) {
		var sinks []Sink
		for _, open := range openers {
			sk, err := open(ctx)
			if err != nil {
				for _, o := range sinks {
					if a, ok := o.(interface{ Abort() }); ok {
						a.Abort() // a plugin that was started for nothing
					} else {
						o.Close(ctx)
					}
				}
				return nil, err
			}
			sinks = append(sinks, sk)
		}
		return e.withEstate(sinks), nil
	}
	s.where[estateSinkName] = "the state store's estate"
	return e, nil
}

func (s *setup) newBuilder() Builder {
	keys := s.keys
	return assets.NewBuilder(assets.Options{UpstreamKeys: func(m *snapshot.SemanticModel) []spec.Key {
		if m.Lineage != nil {
			return keys.Keys(m.Lineage)
		}
		return assets.DefaultUpstreamKeys(m)
	}, LineageKeys: keys.Keys})
}

// translators loads the translator chain: WASM modules are compiled (once, through the
// file cache) and started here, so a bad module fails before any API call. Validation
// loads them the same way, then closes them.
func (s *setup) translators(ctx context.Context, e *Engine) error {
	if len(s.p.Translators) == 0 {
		return nil
	}
	opts := translate.Options{CacheDir: s.opts.CacheDir, BaseDir: s.dir, Logger: s.opts.Logger}
	if s.dryRun {
		return translate.Check(ctx, s.p.Translators, opts)
	}
	chain, err := translate.New(ctx, s.p.Translators, opts)
	if err != nil {
		return err
	}
	s.closers = append(s.closers, func() { chain.Close(context.Background()) })
	for _, t := range chain.Steps() {
		e.Translators = append(e.Translators, t)
	}
	return nil
}

// source builds one source of the pipeline.
func (s *setup) source(ctx context.Context, src pipeline.Source) (Source, error) {
	switch src.Kind() {
	case "snapshot":
		path := s.resolve(src.Snapshot)
		if _, err := os.Stat(path); err != nil {
			return nil, &config.Error{Pos: src.Pos, Msg: fmt.Sprintf("source %q: snapshot file: %v", src.Name, err)}
		}
		return &fileSource{name: src.Name, path: path}, nil
	case "emulator":
		return s.emulatorSource(src)
	default:
		return s.powerbiSource(src)
	}
}

// output checks one output entry and returns what opens it for a run: every output is
// a sink plugin, the built-in ones served by pbisync's own binary.
func (s *setup) output(_ context.Context, n config.Node, i int) (func(context.Context) (Sink, error), string, error) {
	name := ""
	if c := n.Child("name"); c.Node != nil {
		name = c.Value
	}
	opts := s.sinkOptions()
	check := sinkhost.Check
	if s.dryRun {
		// Validation starts the plugin, so its binary, handshake and own config
		// checks are tried, and opens nothing.
		check = func(n config.Node, _ sinkhost.Options) error { return s.probe(n) }
	}
	if err := check(n, opts); err != nil {
		return nil, name, err
	}
	s.where[name] = describeOutput(n, s)
	return func(ctx context.Context) (Sink, error) {
		sk, err := sinkhost.New(ctx, n, opts)
		if err != nil {
			return nil, err
		}
		return sk, nil
	}, name, nil
}

func (s *setup) sinkOptions() sinkhost.Options {
	return sinkhost.Options{Executable: s.opts.Executable, BaseDir: s.dir, Logger: s.opts.Logger, Stdout: s.opts.Stdout}
}

// probe checks an output as far as possible without opening it (sinkhost.Probe). A
// plugin that cannot check its config without opening its output is let through with
// a warning: a sync will check it when it configures it.
func (s *setup) probe(n config.Node) error {
	err := sinkhost.Probe(context.Background(), n, s.sinkOptions())
	if errors.Is(err, sinkhost.ErrUnchecked) {
		s.opts.Logger.Warn("output config not checked", "output", n.Child("name").Value, "reason", err)
		return nil
	}
	return err
}

// describeOutput says where an output writes, for the report after a sync.
func describeOutput(n config.Node, s *setup) string {
	for _, kind := range sinkhost.Builtins {
		k := n.Child(kind)
		if k.Node == nil {
			continue
		}
		for _, f := range []string{"path", "file", "url", "server"} {
			if v := k.Child(f); v.Node != nil && v.Value != "" {
				if f == "path" || f == "file" {
					return s.resolve(v.Value)
				}
				return kind + " at " + v.Value
			}
		}
		if kind == "jsonl" {
			return "-"
		}
		return kind
	}
	if p := n.Child("plugin").Child("path"); p.Node != nil {
		return "plugin " + p.Value
	}
	return ""
}

// OutputLocation says where an output writes, for the report at the end of a sync.
func (e *Engine) OutputLocation(name string) string {
	if e.setup == nil {
		return ""
	}
	if w, ok := e.setup.where[name]; ok {
		if w == "-" {
			return "standard output"
		}
		return w
	}
	return name
}

// Close stops what FromPipeline started (emulators, plugins). It is safe to call twice.
func (e *Engine) Close() {
	if e.setup != nil {
		e.setup.close()
	}
}

// SaveSnapshot pulls the pipeline's sources (or the one named) and writes them as one
// snapshot file. It returns the number of workspaces written.
func SaveSnapshot(ctx context.Context, p *pipeline.Pipeline, opts SetupOptions, sourceName, out string) (int, error) {
	s := newSetup(p, opts)
	defer s.close()
	var sources []Source
	for _, src := range p.Sources {
		if sourceName != "" && src.Name != sourceName {
			continue
		}
		source, err := s.source(ctx, src)
		if err != nil {
			return 0, err
		}
		sources = append(sources, source)
	}
	if len(sources) == 0 {
		return 0, fmt.Errorf("%s: no source named %q", p.File, sourceName)
	}
	resolver, err := lineage.DecodeResolver(p.Lineage)
	if err != nil {
		return 0, err
	}
	var w io.Writer = opts.Stdout
	var f *sink.RunFile
	if out != "-" {
		// Written beside the target and renamed over it once complete: a failed save
		// leaves the previous snapshot as it was.
		// The folder must exist (a save does not create one), checked before any call
		// to the service.
		if st, err := os.Stat(filepath.Dir(out)); err != nil || !st.IsDir() {
			if err == nil {
				err = fmt.Errorf("not a folder")
			}
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return 0, fmt.Errorf("%s: cannot write in %s: %w", out, filepath.Dir(out), err)
		}
		var err error
		f, err = sink.OpenRunFile(out, sink.Run{Kind: sink.RunSync, ID: fmt.Sprintf("save-%d", os.Getpid()), StartedAt: time.Now()},
			sink.FileOptions{Logger: opts.Logger})
		if err != nil {
			// The temporary file's name would only puzzle: name the folder.
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return 0, fmt.Errorf("%s: cannot write in %s: %w", out, filepath.Dir(out), err)
		}
		w = f
	}
	n, err := saveSnapshot(ctx, sources, opts, resolver.ResolveSnapshot, w)
	if f == nil {
		return n, err
	}
	if err != nil {
		f.Abort(err.Error())
		return 0, err
	}
	if err := f.Commit(); err != nil {
		return 0, err
	}
	return n, nil
}

func saveSnapshot(ctx context.Context, sources []Source, opts SetupOptions, resolve func(*snapshot.Snapshot) lineage.Stats, w io.Writer) (int, error) {
	kind := "file"
	if len(sources) == 1 {
		kind = sources[0].Name()
	}
	sw := snapshot.NewWriter(w, kind, time.Now())
	batches := 0
	for _, src := range sources {
		err := src.Snapshots(ctx, func(batch *snapshot.Snapshot) error {
			// Table-level lineage is part of a saved snapshot.
			resolve(batch)
			if err := sw.Add(batch); err != nil {
				return err
			}
			batches++
			if opts.Progress != nil {
				opts.Progress(Progress{Workspaces: sw.Workspaces(), Batches: batches})
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("source %s: %w", src.Name(), err)
		}
	}
	if err := sw.Close(); err != nil {
		return 0, err
	}
	return sw.Workspaces(), nil
}

// fileSource reads a snapshot or raw scanResult file.
type fileSource struct {
	name, path string
}

func (f *fileSource) Name() string { return f.name }

func (f *fileSource) Snapshots(ctx context.Context, emit func(*snapshot.Snapshot) error) error {
	s, err := snapshot.Load(f.path)
	if err != nil {
		return err
	}
	return emit(s)
}

// DefaultRecords turns a snapshot file into the records the translators of a sync would
// get: lineage resolved, default specs built. `pbisync translator test --snapshot` runs
// a translator over them.
func DefaultRecords(path string) ([]record.Record, []record.Problem, error) {
	snap, err := snapshot.Load(path)
	if err != nil {
		return nil, nil, err
	}
	lineage.ResolveSnapshot(snap)
	s := &setup{keys: &lineage.KeyMapper{}}
	b := s.newBuilder()
	recs, probs := b.Add(snap)
	more, p2 := b.Flush()
	return append(recs, more...), append(probs, p2...), nil
}

// The components FromPipeline wires in satisfy the engine's interfaces.
var (
	_ Translator = (*translate.Chain)(nil)
	_ Sink       = (*sinkhost.Sink)(nil)
	_ StateStore = (*state.Store)(nil)
)

// lockedWriter serializes writes to a writer shared by several sinks.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
