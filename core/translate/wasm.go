package translate

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// WASM is a translator backed by a WebAssembly module: one compiled module and a pool
// of instances, one per CPU by default. It is safe for concurrent use.
type WASM struct {
	name     string
	policy   Policy
	limits   Limits
	config   []byte
	logger   *slog.Logger
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	modCfg   wazero.ModuleConfig
	hasInit  bool
	// SHA256 is the hex sha256 of the module's bytes.
	SHA256 string

	idle    chan *instance
	slots   chan struct{} // one token per live instance
	resPool sync.Pool     // []result slices, recycled between batches
}

// instance is one instantiated module with its exports looked up once.
type instance struct {
	mod       api.Module
	translate api.Function
	stack     []uint64
	out       *guestOutput
}

// maxAttempts bounds how often one batch is retried on fresh instances after traps.
const maxAttempts = 4

func randomSeed() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

// loadWASM compiles a module and starts its first instance, so configuration errors and
// a failing pbisync_init show up at start.
func loadWASM(ctx context.Context, e *Entry, wasmBytes []byte, source string, cache wazero.CompilationCache, opts *Options) (*WASM, error) {
	sum := sha256.Sum256(wasmBytes)
	hexSum := hex.EncodeToString(sum[:])
	if e.SHA256 != "" && !strings.EqualFold(e.SHA256, hexSum) {
		return nil, &keyError{key: "sha256", err: fmt.Errorf("translator %q: %s has sha256 %s, but the pipeline pins %s", e.Name, source, hexSum, strings.ToLower(e.SHA256))}
	}
	limits, err := e.limits()
	if err != nil {
		return nil, fmt.Errorf("translator %q: %w", e.Name, err)
	}
	cfgJSON, err := e.configJSON()
	if err != nil {
		return nil, fmt.Errorf("translator %q: config: %w", e.Name, err)
	}
	pages := uint32((limits.MemoryBytes + 65535) / 65536)
	rc := wazero.NewRuntimeConfig().
		WithCloseOnContextDone(true).
		WithMemoryLimitPages(pages)
	if cache != nil {
		rc = rc.WithCompilationCache(cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	w := &WASM{name: e.Name, policy: e.policy(), limits: limits, config: cfgJSON, logger: opts.logger(), rt: rt, SHA256: hexSum}
	fail := func(err error) (*WASM, error) {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("translator %q (%s): %w", e.Name, source, err)
	}
	w.compiled, err = rt.CompileModule(ctx, wasmBytes)
	if err != nil {
		mod, ferr := fail(fmt.Errorf("not a valid WebAssembly module: %w", err))
		return mod, &keyError{key: "wasm", err: ferr}
	}
	if err := checkShape(w.compiled); err != nil {
		return fail(err)
	}
	_, w.hasInit = w.compiled.ExportedFunctions()[exportInit]
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return fail(err)
	}
	if err := instantiateHost(ctx, rt, e.Name, w.logger, e.Grant); err != nil {
		return fail(err)
	}
	w.modCfg, err = moduleConfig(e.Grant)
	if err != nil {
		return fail(err)
	}
	n := opts.instances()
	w.idle = make(chan *instance, n)
	w.slots = make(chan struct{}, n)
	in, err := w.acquire(ctx)
	if err != nil {
		return fail(err)
	}
	w.release(in)
	return w, nil
}

// checkShape refuses modules built for another ABI, or that miss exports or import
// what the host does not provide, before any of their code runs.
func checkShape(cm wazero.CompiledModule) error {
	exports := cm.ExportedFunctions()
	marker := abiMarkerPrefix + strconv.Itoa(ABIVersion)
	if _, ok := exports[marker]; !ok {
		var other []string
		for name := range exports {
			if v, ok := strings.CutPrefix(name, abiMarkerPrefix); ok {
				other = append(other, v)
			}
		}
		if len(other) > 0 {
			sort.Strings(other)
			return fmt.Errorf("module declares ABI version %s; this pbisync speaks version %d (rebuild it with a kit for version %d)",
				strings.Join(other, ", "), ABIVersion, ABIVersion)
		}
		return fmt.Errorf("not a pbisync translator: it exports no %s function (see sdk/ABI.md)", marker)
	}
	if fn, ok := exports[exportTranslate]; !ok {
		return fmt.Errorf("module exports no %s function", exportTranslate)
	} else if len(fn.ParamTypes()) != 0 || !slices.Equal(fn.ResultTypes(), []api.ValueType{api.ValueTypeI32}) {
		return fmt.Errorf("%s must have the signature () -> i32", exportTranslate)
	}
	if fn, ok := exports[exportInit]; ok && (len(fn.ParamTypes()) != 0 || !slices.Equal(fn.ResultTypes(), []api.ValueType{api.ValueTypeI32})) {
		return fmt.Errorf("%s must have the signature () -> i32", exportInit)
	}
	if _, ok := cm.ExportedMemories()["memory"]; !ok {
		return errors.New(`module exports no memory named "memory"`)
	}
	known := map[string]bool{"env.abort": true, "env.seed": true, hostModule + ".log": true}
	for _, h := range hostFuncs {
		known[hostModule+"."+h.name] = true
	}
	for _, imp := range cm.ImportedFunctions() {
		mod, name, _ := imp.Import()
		if mod == wasi_snapshot_preview1.ModuleName {
			continue
		}
		if !known[mod+"."+name] {
			return fmt.Errorf("module imports %s.%s, which pbisync does not provide (ABI version %d: see sdk/ABI.md)", mod, name, ABIVersion)
		}
	}
	if len(cm.ImportedMemories()) > 0 {
		return errors.New("module imports its memory; it must define and export it")
	}
	return nil
}

// moduleConfig is the sandbox: wazero's defaults are deterministic (fake clocks, a fixed
// random sequence, no environment, no filesystem); grants open parts of it.
func moduleConfig(g Grant) (wazero.ModuleConfig, error) {
	mc := wazero.NewModuleConfig().WithStartFunctions("_initialize").WithName("")
	if g.Clock {
		mc = mc.WithSysWalltime().WithSysNanotime().WithSysNanosleep()
	}
	if g.Random {
		mc = mc.WithRandSource(rand.Reader)
	}
	for _, name := range g.Env {
		if v, ok := os.LookupEnv(name); ok {
			mc = mc.WithEnv(name, v)
		}
	}
	if len(g.FS) > 0 {
		fc := wazero.NewFSConfig()
		for _, dir := range g.FS {
			st, err := os.Stat(dir)
			if err != nil || !st.IsDir() {
				return nil, fmt.Errorf("grant.fs: %q is not a directory", dir)
			}
			fc = fc.WithReadOnlyDirMount(dir, dir)
		}
		mc = mc.WithFSConfig(fc)
	}
	return mc, nil
}

// Name returns the translator's name from the pipeline.
func (w *WASM) Name() string { return w.name }

// acquire takes an idle instance or starts one while the pool has room.
func (w *WASM) acquire(ctx context.Context) (*instance, error) {
	select {
	case in := <-w.idle:
		return in, nil
	default:
	}
	select {
	case in := <-w.idle:
		return in, nil
	case w.slots <- struct{}{}:
		in, err := w.instantiate(ctx)
		if err != nil {
			<-w.slots
			return nil, err
		}
		return in, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (w *WASM) release(in *instance) { w.idle <- in }

func (w *WASM) discard(ctx context.Context, in *instance) {
	_ = in.mod.Close(ctx)
	<-w.slots
}

func (w *WASM) instantiate(ctx context.Context) (*instance, error) {
	out := &guestOutput{logger: w.logger, name: w.name}
	b := newBatch(nil, w.config, 0)
	b.init = true
	ictx, cancel := context.WithTimeout(ctx, w.limits.BatchTimeout)
	defer cancel()
	ictx = context.WithValue(ictx, batchKey{}, b)
	mod, err := w.rt.InstantiateModule(ictx, w.compiled, w.modCfg.WithStdout(out).WithStderr(out))
	if err != nil {
		return nil, fmt.Errorf("start: %w", w.describe(ctx, ictx, err, out, nil))
	}
	in := &instance{mod: mod, translate: mod.ExportedFunction(exportTranslate), stack: make([]uint64, 1), out: out}
	if w.hasInit {
		res, err := mod.ExportedFunction(exportInit).Call(ictx)
		if err != nil {
			_ = mod.Close(ctx)
			return nil, fmt.Errorf("%s: %w", exportInit, w.describe(ctx, ictx, err, out, mod))
		}
		if st := api.DecodeI32(res[0]); st != 0 {
			_ = mod.Close(ctx)
			msg := "no message"
			if b.initErr != nil {
				msg = b.initErr.Error()
			}
			return nil, fmt.Errorf("%s refused to start (status %d): %s", exportInit, st, msg)
		}
	}
	return in, nil
}

// describe turns a failed guest call into a reason a user can act on.
func (w *WASM) describe(parent, call context.Context, err error, out *guestOutput, mod api.Module) error {
	var exit *sys.ExitError
	switch {
	case parent.Err() != nil:
		return parent.Err()
	case errors.Is(call.Err(), context.DeadlineExceeded):
		err = fmt.Errorf("stopped after batch_timeout %s: the translator is still running (stuck in a loop?); raise limits.batch_timeout if it is just slow", w.limits.BatchTimeout)
	case errors.As(err, &exit):
		err = fmt.Errorf("the module exited with code %d", exit.ExitCode())
	default:
		err = trapReason(err)
		if mod != nil && mod.Memory() != nil && uint64(mod.Memory().Size())+1<<20 >= w.limits.MemoryBytes {
			err = fmt.Errorf("%w (its memory is at limits.memory, %d MiB: raise it if the translator needs more)", err, w.limits.MemoryBytes>>20)
		}
	}
	if tail := out.tail(); tail != "" {
		err = fmt.Errorf("%w; its last output: %s", err, tail)
	}
	return err
}

// trapReason keeps a trap's message and the first frames of its wasm stack trace.
func trapReason(err error) error {
	var gf guestFault
	if errors.As(err, &gf) {
		return gf
	}
	lines := strings.Split(err.Error(), "\n")
	msg := strings.TrimSpace(lines[0])
	for i, l := range lines {
		if strings.HasPrefix(l, "wasm stack trace:") && i+1 < len(lines) {
			frame, _, _ := strings.Cut(strings.TrimSpace(lines[i+1]), "(")
			msg += " (in " + strings.TrimSpace(frame) + ")"
			break
		}
	}
	return fmt.Errorf("trap: %s", msg)
}

// Close releases the module's instances and runtime.
func (w *WASM) Close(ctx context.Context) error { return w.rt.Close(ctx) }

// guestOutput receives a guest's stdout and stderr: it logs each line and keeps the last
// bytes for error messages (a Go guest's panic lands there).
type guestOutput struct {
	mu     sync.Mutex
	logger *slog.Logger
	name   string
	line   []byte
	last   []byte
}

const outputTail = 512

func (g *guestOutput) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range p {
		if c == '\n' || len(g.line) >= maxLogLine {
			g.logger.Info(string(g.line), "translator", g.name, "stream", "guest output")
			g.line = g.line[:0]
			if c == '\n' {
				g.last = append(g.last, ' ')
				continue
			}
		}
		g.line = append(g.line, c)
		g.last = append(g.last, c)
	}
	if len(g.last) > 2*outputTail {
		g.last = append(g.last[:0], g.last[len(g.last)-outputTail:]...)
	}
	return len(p), nil
}

func (g *guestOutput) tail() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	t := g.last
	if len(t) > outputTail {
		t = t[len(t)-outputTail:]
	}
	return strings.TrimSpace(strings.ToValidUTF8(string(t), "\uFFFD"))
}
