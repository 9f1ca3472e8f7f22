package translate

import (
	"context"
	"crypto/sha256"
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
	// hasReactorInit: the module exports _initialize, run once per instance first.
	hasReactorInit bool
	// stopper: the module carries the stop checks; instances stop through stopGlobal.
	stopper bool
	// SHA256 is the hex sha256 of the module's bytes.
	SHA256 string

	grant Grant
	caps  *outputCaps
	roots []*os.Root // granted directories
	// ownCache is this module's compiled-code cache, closed with it (nil: the chain's).
	ownCache wazero.CompilationCache
	idle     chan *instance
	slots    chan struct{} // one token per live instance
	resPool  sync.Pool     // []result slices, recycled between batches
}

// instance is one instantiated module with its exports looked up once.
type instance struct {
	mod       api.Module
	translate api.Function
	stack     []uint64
	out       *guestOutput
	sb        *sandbox
	stop      api.MutableGlobal // stopGlobal of an instrumented module, else nil
	used      bool              // it has run a call: its memory holds what earlier assets left
}

// halt makes the instance's guest stop: at its next check (instrumented modules) or,
// through the call's context, by wazero (the others); and at its next host call.
func (in *instance) halt(b *batch) {
	b.stopped.Store(true)
	if in.stop != nil {
		in.stop.Set(1)
	}
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
	if err := checkInitialMemory(wasmBytes, limits.MemoryBytes); err != nil {
		return nil, fmt.Errorf("translator %q (%s): %w", e.Name, source, err)
	}
	w := &WASM{name: e.Name, policy: e.policy(), limits: limits, config: cfgJSON, logger: opts.logger(), SHA256: hexSum,
		grant: e.Grant, caps: &outputCaps{perAsset: limits.MaxLogLines, perRun: limits.MaxRunLines}}
	fail := func(err error) (*WASM, error) {
		_ = w.Close(ctx)
		return nil, fmt.Errorf("translator %q (%s): %w", e.Name, source, err)
	}
	// A guest stuck in a loop is stopped through the checks instrument adds (see
	// stopcheck.go), or, for a module it cannot read, wazero's close-on-context-done.
	newRuntime := func(closeOnDone bool) wazero.Runtime {
		rc := wazero.NewRuntimeConfig().WithCloseOnContextDone(closeOnDone).WithMemoryLimitPages(pages)
		if cache != nil {
			rc = rc.WithCompilationCache(cache)
		}
		return wazero.NewRuntimeWithConfig(ctx, rc)
	}
	if terminationMode == stopByGlobal {
		if code, ierr := instrument(wasmBytes); ierr == nil {
			w.rt = newRuntime(false)
			if w.compiled, err = w.rt.CompileModule(ctx, code); err == nil {
				w.stopper = true
			} else {
				_ = w.rt.Close(ctx)
			}
		} else {
			w.logger.Debug("translator runs with close-on-context-done", "translator", e.Name, "reason", ierr)
		}
	}
	if !w.stopper {
		w.rt = newRuntime(terminationMode != unstoppable)
		w.compiled, err = w.rt.CompileModule(ctx, wasmBytes)
		if err != nil {
			mod, ferr := fail(fmt.Errorf("not a valid WebAssembly module: %w", err))
			return mod, &keyError{key: "wasm", err: ferr}
		}
	}
	if err := checkShape(w.compiled); err != nil {
		return fail(err)
	}
	_, w.hasInit = w.compiled.ExportedFunctions()[exportInit]
	_, w.hasReactorInit = w.compiled.ExportedFunctions()["_initialize"]
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, w.rt); err != nil {
		return fail(err)
	}
	if err := instantiateHost(ctx, w.rt, e.Name, w.logger, w.caps); err != nil {
		return fail(err)
	}
	if err := checkLinks(w.rt, w.compiled); err != nil {
		return fail(err)
	}
	w.modCfg, err = w.moduleConfig(e.Grant)
	if err != nil {
		mod, ferr := fail(err)
		return mod, &keyError{key: "grant", err: ferr}
	}
	n := w.poolSize(opts.instances())
	w.idle = make(chan *instance, n)
	w.slots = make(chan struct{}, n)
	in, err := w.acquire(ctx)
	if err != nil {
		return fail(err)
	}
	w.release(in)
	return w, nil
}

// How guests are stopped; only BenchmarkTermination changes it, to compare.
type termination int

const (
	stopByGlobal       termination = iota // instrumented checks (stopcheck.go), else close-on-context-done
	closeOnContextDone                    // wazero's close-on-context-done only
	unstoppable                           // nothing: only for measuring what the others cost
)

var terminationMode = stopByGlobal

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
	if _, ok := exports["_start"]; ok {
		return errors.New("module is a WASI command (it exports _start); pbisync runs reactors, whose _initialize runs once and whose main never runs: " +
			"build with -mexec-model=reactor (C), -buildmode=c-shared (Go), as a cdylib (Rust), or use a kit in sdk/translator")
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

// moduleConfig is the sandbox shared by a translator's instances: no environment and
// no filesystem unless granted. Clocks and randomness are per instance (sandbox.go).
func (w *WASM) moduleConfig(g Grant) (wazero.ModuleConfig, error) {
	mc := wazero.NewModuleConfig().WithStartFunctions().WithName("") // _initialize: see instantiate
	for _, name := range g.Env {
		if v, ok := os.LookupEnv(name); ok {
			mc = mc.WithEnv(name, v)
		}
	}
	if len(g.FS) > 0 {
		fc, roots, err := fsConfig(g.FS)
		if err != nil {
			return nil, err
		}
		w.roots = roots
		mc = mc.WithFSConfig(fc)
	}
	return mc, nil
}

// poolSize is how many instances may live at once: one per CPU, but no more than half
// of limits.stage_memory holds at limits.memory each, so the stage's memory does not
// grow with the CPU count.
func (w *WASM) poolSize(cpus int) int {
	byMemory := uint64(w.limits.StageMemory/2) / w.limits.MemoryBytes
	return int(max(1, min(uint64(cpus), byMemory)))
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
	sb := &sandbox{grant: w.grant}
	sb.reset(nil, "start")
	out := &guestOutput{logger: w.logger, name: w.name, caps: w.caps}
	b := newBatch(nil, w.config, 0)
	b.init, b.sb = true, sb
	b.maxCalls, b.maxHostMem = w.limits.MaxCalls, w.limits.MaxHostMemory
	ictx, cancel := context.WithTimeout(ctx, max(startTimeout, w.limits.AssetTimeout))
	defer cancel()
	sb.stop = ictx.Done()
	ictx = context.WithValue(ictx, batchKey{}, b)
	mod, err := w.rt.InstantiateModule(ictx, w.compiled, sb.configure(w.modCfg).WithStdout(out).WithStderr(out))
	if err != nil {
		return nil, fmt.Errorf("start: %w", w.describe(ctx, ictx, err, out, nil))
	}
	in := &instance{mod: mod, translate: mod.ExportedFunction(exportTranslate), stack: make([]uint64, 1), out: out, sb: sb}
	if w.stopper {
		g, ok := mod.ExportedGlobal(stopGlobal).(api.MutableGlobal)
		if !ok {
			_ = mod.Close(ctx)
			return nil, fmt.Errorf("start: the instrumented module lacks %s", stopGlobal)
		}
		in.stop = g
	}
	unhook := context.AfterFunc(ictx, func() { in.halt(b) })
	defer unhook()
	if w.hasReactorInit {
		if _, err := mod.ExportedFunction("_initialize").Call(ictx); err != nil {
			_ = mod.Close(ctx)
			return nil, fmt.Errorf("_initialize: %w", w.describe(ctx, ictx, err, out, mod))
		}
	}
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
	case errors.Is(context.Cause(call), errAssetTimeout):
		err = fmt.Errorf("stopped after asset_timeout %s on this asset: the translator is still running (stuck in a loop, or asleep?); raise limits.asset_timeout if it is just slow", w.limits.AssetTimeout)
	case errors.Is(call.Err(), context.DeadlineExceeded):
		err = fmt.Errorf("stopped after %s: the translator is still starting (stuck in a loop?)", max(startTimeout, w.limits.AssetTimeout))
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
func (w *WASM) Close(ctx context.Context) error {
	w.caps.report(w.logger, w.name)
	var err error
	if w.rt != nil {
		err = w.rt.Close(ctx)
	}
	for _, r := range w.roots {
		_ = r.Close()
	}
	if w.ownCache != nil {
		err = errors.Join(err, w.ownCache.Close(ctx))
	}
	return err
}
