package translate

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"unicode/utf16"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// batchKey carries the *batch of the current guest call to the host functions.
type batchKey struct{}

func batchOf(ctx context.Context) *batch {
	b, _ := ctx.Value(batchKey{}).(*batch)
	return b
}

// guestFault is a host-side trap: the guest handed the host something it cannot use.
type guestFault struct{ msg string }

func (f guestFault) Error() string { return f.msg }

func read(mod api.Module, ptr, n uint32) []byte {
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		panic(guestFault{fmt.Sprintf("guest passed a buffer outside its memory (offset %d, length %d)", ptr, n)})
	}
	return b
}

// reply copies v into the guest's buffer, as much as fits, and returns v's full length.
func reply(mod api.Module, buf, capacity uint32, v string, status int32) uint64 {
	if status != statusOK {
		return api.EncodeI32(status)
	}
	n := uint32(len(v))
	if n > capacity {
		v = v[:capacity]
	}
	if len(v) > 0 && !mod.Memory().WriteString(buf, v) {
		panic(guestFault{fmt.Sprintf("guest passed a buffer outside its memory (offset %d, length %d)", buf, len(v))})
	}
	if n > math.MaxInt32 {
		return api.EncodeI32(statusTooLarge)
	}
	return api.EncodeI32(int32(n))
}

func i32(v uint64) int32 { return api.DecodeI32(v) }

// hostFunc is one host function: its name, parameter count and body.
type hostFunc struct {
	name   string
	params int
	fn     func(ctx context.Context, mod api.Module, b *batch, s []uint64) int32
}

// hostFuncs are the functions of import module "pbisync" (sdk/ABI.md).
var hostFuncs = []hostFunc{
	{"next", 0, func(_ context.Context, _ api.Module, b *batch, _ []uint64) int32 { return b.next() }},
	{"get", 4, func(_ context.Context, mod api.Module, b *batch, s []uint64) int32 {
		v, st := b.get(i32(s[0]), i32(s[1]))
		return int32(reply(mod, uint32(s[2]), uint32(s[3]), v, st))
	}},
	{"count", 1, func(_ context.Context, _ api.Module, b *batch, s []uint64) int32 { return b.count(i32(s[0])) }},
	{"lookup", 5, func(_ context.Context, mod api.Module, b *batch, s []uint64) int32 {
		b.alloc(int(uint32(s[2])))
		path := string(read(mod, uint32(s[1]), uint32(s[2])))
		v, st := b.lookup(i32(s[0]), path)
		return int32(reply(mod, uint32(s[3]), uint32(s[4]), v, st))
	}},
	{"set", 3, func(_ context.Context, mod api.Module, b *batch, s []uint64) int32 {
		if !b.fits(uint32(s[2])) {
			return b.tooLarge("set", i32(s[0]))
		}
		return b.set(i32(s[0]), string(read(mod, uint32(s[1]), uint32(s[2]))))
	}},
	{"set_json", 3, func(_ context.Context, mod api.Module, b *batch, s []uint64) int32 {
		if !b.fits(uint32(s[2])) {
			return b.tooLarge("set_json", i32(s[0]))
		}
		return b.setJSON(i32(s[0]), read(mod, uint32(s[1]), uint32(s[2])))
	}},
	{"insert", 4, func(_ context.Context, mod api.Module, b *batch, s []uint64) int32 {
		if !b.fits(uint32(s[3])) {
			return b.tooLarge("insert", i32(s[0]))
		}
		return b.insert(i32(s[0]), i32(s[1]), string(read(mod, uint32(s[2]), uint32(s[3]))))
	}},
	{"remove", 2, func(_ context.Context, _ api.Module, b *batch, s []uint64) int32 {
		return b.remove(i32(s[0]), i32(s[1]))
	}},
	{"put", 5, func(_ context.Context, mod api.Module, b *batch, s []uint64) int32 {
		if !b.fits(uint32(s[2]) + uint32(s[4])) {
			return b.tooLarge("put", i32(s[0]))
		}
		k := string(read(mod, uint32(s[1]), uint32(s[2])))
		return b.put(i32(s[0]), k, read(mod, uint32(s[3]), uint32(s[4])))
	}},
	{"delete", 3, func(_ context.Context, mod api.Module, b *batch, s []uint64) int32 {
		b.alloc(int(uint32(s[2])))
		return b.del(i32(s[0]), string(read(mod, uint32(s[1]), uint32(s[2]))))
	}},
	{"drop", 0, func(_ context.Context, _ api.Module, b *batch, _ []uint64) int32 { return b.drop() }},
	{"fail", 2, func(_ context.Context, mod api.Module, b *batch, s []uint64) int32 {
		n := min(uint32(s[1]), maxFailMessage+4)
		b.alloc(int(n))
		return b.fail(string(read(mod, uint32(s[0]), n)))
	}},
}

const maxLogLine = 4 << 10

// instantiateHost adds the "pbisync" and "env" host modules to a translator's runtime.
// out receives the log lines the guest's log calls pass its caps.
func instantiateHost(ctx context.Context, rt wazero.Runtime, name string, logger *slog.Logger, caps *outputCaps) error {
	hb := rt.NewHostModuleBuilder(hostModule)
	for _, h := range hostFuncs {
		params := make([]api.ValueType, h.params)
		for i := range params {
			params[i] = api.ValueTypeI32
		}
		fn := h.fn
		hb.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, mod api.Module, s []uint64) {
			b := batchOf(ctx)
			if b == nil {
				s[0] = api.EncodeI32(statusNoCurrent)
				return
			}
			b.call()
			s[0] = api.EncodeI32(fn(ctx, mod, b, s))
		}), params, []api.ValueType{api.ValueTypeI32}).Export(h.name)
	}
	hb.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, mod api.Module, s []uint64) {
		level := slog.Level(i32(s[0]))
		s[0] = 0
		b := batchOf(ctx)
		if b != nil {
			b.call()
		}
		n := min(uint32(s[2]), maxLogLine)
		msg := read(mod, uint32(s[1]), n)
		if !caps.admit(b) {
			return
		}
		attrs := []any{"translator", name}
		if b != nil && b.current() {
			attrs = append(attrs, "asset", b.recs[b.cur].Spec.PowerBI.String())
		}
		logger.Log(ctx, level, strings.ToValidUTF8(string(msg), "\uFFFD"), attrs...)
	}), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}).Export("log")
	if _, err := hb.Instantiate(ctx); err != nil {
		return err
	}

	// AssemblyScript's runtime imports env.abort (and env.seed for Math.random).
	eb := rt.NewHostModuleBuilder("env")
	eb.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, mod api.Module, s []uint64) {
		msg, file := asString(mod, uint32(s[0])), asString(mod, uint32(s[1]))
		panic(guestFault{fmt.Sprintf("abort: %s at %s:%d:%d", msg, file, i32(s[2]), i32(s[3]))})
	}), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, nil).Export("abort")
	// seed is the instance's sandbox: per asset and fixed unless random is granted.
	eb.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, _ api.Module, s []uint64) {
		b := batchOf(ctx)
		if b == nil || b.sb == nil {
			s[0] = api.EncodeF64(0)
			return
		}
		s[0] = api.EncodeF64(b.sb.seedF64())
	}), nil, []api.ValueType{api.ValueTypeF64}).Export("seed")
	_, err := eb.Instantiate(ctx)
	return err
}

// asString reads an AssemblyScript string (UTF-16, byte length at ptr-4), or "?".
func asString(mod api.Module, ptr uint32) string {
	if ptr < 4 {
		return "?"
	}
	n, ok := mod.Memory().ReadUint32Le(ptr - 4)
	if !ok || n > 4096 || n%2 != 0 {
		return "?"
	}
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		return "?"
	}
	u := make([]uint16, n/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(u))
}
