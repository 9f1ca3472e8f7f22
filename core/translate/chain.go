package translate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"

	"github.com/tetratelabs/wazero"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/record"
)

// Translator is what each pipeline entry becomes. It has the method set of
// engine.Translator.
type Translator interface {
	Name() string
	Translate(ctx context.Context, batch []record.Record) ([]record.Record, []record.Problem, error)
	Close(ctx context.Context) error
}

// Options configure how translators are loaded.
type Options struct {
	// CacheDir holds wazero's compilation cache and Go package builds. Default:
	// os.UserCacheDir()/pbisync. "-" disables the file caches.
	CacheDir string
	// BaseDir resolves relative wasm and go_package paths. Default: the directory of the
	// YAML file the entry came from, else the working directory.
	BaseDir string
	// Instances is the pool size per module. Default: GOMAXPROCS.
	Instances int
	// GoCommand builds go_package entries. Default: "go".
	GoCommand string
	Logger    *slog.Logger
}

func (o *Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.Default()
	}
	return o.Logger
}

func (o *Options) instances() int {
	if o.Instances > 0 {
		return o.Instances
	}
	return runtime.GOMAXPROCS(0)
}

func (o *Options) cacheDir() (string, error) {
	if o.CacheDir == "-" {
		return "", nil
	}
	if o.CacheDir != "" {
		return o.CacheDir, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set Options.CacheDir): %w", err)
	}
	return filepath.Join(d, "pbisync"), nil
}

// Chain runs translators in order; each sees the previous one's output.
type Chain struct {
	steps []Translator
	cache wazero.CompilationCache
}

// New decodes and loads the pipeline's `translators:` entries, in order. WASM modules
// are compiled once (with a file cache keyed by content) and started, so bad modules,
// bad config and a failing pbisync_init are reported here. Every entry is tried: the
// error lists each entry that cannot run, each at its place in the YAML.
func New(ctx context.Context, entries []config.Node, opts Options) (*Chain, error) {
	c := &Chain{}
	seen := map[string]config.Pos{}
	var errs []error
	for _, n := range entries {
		e, err := DecodeEntry(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := seen[e.Name]; dup {
			errs = append(errs, config.Errorf(n, "translator name %q is already used at %s", e.Name, prev))
			continue
		}
		seen[e.Name] = n.Pos()
		t, err := c.load(ctx, &e, &opts)
		if err != nil {
			// What the pipeline names cannot run: a missing or foreign module, a
			// package that does not build, a config its pbisync_init refuses.
			at := n
			var ke *keyError
			if errors.As(err, &ke) && n.Child(ke.key).Node != nil {
				at = n.Child(ke.key) // the value the error is about
			}
			errs = append(errs, &config.Error{Pos: at.Pos(), Msg: err.Error()})
			continue
		}
		c.steps = append(c.steps, t)
	}
	if len(errs) > 0 {
		_ = c.Close(ctx)
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// Check loads every entry as New does, then closes them: `pbisync validate` checks
// what a sync would load, with the same errors.
func Check(ctx context.Context, entries []config.Node, opts Options) error {
	c, err := New(ctx, entries, opts)
	if err != nil {
		return err
	}
	return c.Close(ctx)
}

// Load loads one decoded entry on its own. Close the result when done.
func Load(ctx context.Context, e Entry, opts Options) (Translator, error) {
	c := &Chain{}
	t, err := c.load(ctx, &e, &opts)
	if err != nil {
		_ = c.Close(ctx)
		return nil, err
	}
	c.steps = []Translator{t}
	return c, nil
}

func (c *Chain) load(ctx context.Context, e *Entry, opts *Options) (Translator, error) {
	if e.Translation != nil {
		return newNoCode(e), nil
	}
	cacheRoot, err := opts.cacheDir()
	if err != nil {
		return nil, err
	}
	base := opts.BaseDir
	if base == "" && e.pos.File != "" {
		base = filepath.Dir(e.pos.File)
	}
	e.Grant = resolveGrants(e.Grant, base)
	path, source := e.WASM, ""
	if e.GoPackage != "" {
		pkg := resolve(base, e.GoPackage)
		var err error
		if path, err = buildGoPackage(ctx, pkg, opts); err != nil {
			return nil, &keyError{key: "go_package", err: fmt.Errorf("translator %q: %w", e.Name, err)}
		}
		source = "Go package " + e.GoPackage
	} else {
		path = resolve(base, path)
		source = path
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &keyError{key: "wasm", err: fmt.Errorf("translator %q: %w", e.Name, err)}
	}
	if cacheRoot == "" { // no file cache: one in memory for the chain
		if c.cache == nil {
			c.cache = wazero.NewCompilationCache()
		}
		return loadWASM(ctx, e, data, source, c.cache, opts)
	}
	sum := sha256.Sum256(data)
	cc, err := openCodeCache(filepath.Join(cacheRoot, "wazero"), hex.EncodeToString(sum[:]), opts.logger())
	if err != nil {
		return nil, fmt.Errorf("translator %q: %w", e.Name, err)
	}
	cache, err := wazero.NewCompilationCacheWithDir(cc.dir)
	if err != nil {
		return nil, fmt.Errorf("translator %q: compilation cache: %w", e.Name, err)
	}
	w, err := loadWASM(ctx, e, data, source, cache, opts)
	if err != nil {
		_ = cache.Close(ctx)
		return nil, err
	}
	w.ownCache = cache
	if err := cc.seal(); err != nil {
		opts.logger().Warn("compiled-code cache: cannot write its manifest", "translator", e.Name, "error", err)
	}
	return w, nil
}

func resolve(base, p string) string {
	if filepath.IsAbs(p) || base == "" {
		return p
	}
	return filepath.Join(base, p)
}

// Name returns "translators" for a chain, or the entry's name for a single Load.
func (c *Chain) Name() string {
	if len(c.steps) == 1 {
		return c.steps[0].Name()
	}
	return "translators"
}

// Steps returns the chain's translators in order.
func (c *Chain) Steps() []Translator { return c.steps }

// Translate passes the batch through every step in order, collecting problems.
func (c *Chain) Translate(ctx context.Context, batch []record.Record) ([]record.Record, []record.Problem, error) {
	var probs []record.Problem
	for _, s := range c.steps {
		out, p, err := s.Translate(ctx, batch)
		probs = append(probs, p...)
		if err != nil {
			return nil, probs, err
		}
		batch = out
	}
	return batch, probs, nil
}

// Close closes every step and the compilation cache.
func (c *Chain) Close(ctx context.Context) error {
	var errs []error
	for _, s := range c.steps {
		errs = append(errs, s.Close(ctx))
	}
	if c.cache != nil {
		errs = append(errs, c.cache.Close(ctx))
	}
	return errors.Join(errs...)
}

// keyError is a load error about the value of one key of the entry (wasm, go_package,
// sha256), so the pipeline error can point at that value.
type keyError struct {
	key string
	err error
}

func (e *keyError) Error() string { return e.err.Error() }
func (e *keyError) Unwrap() error { return e.err }
