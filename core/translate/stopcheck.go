package translate

import (
	"errors"
	"fmt"
)

// How a guest stuck in a loop is stopped. wazero's close-on-context-done makes every
// loop iteration leave native code to ask Go whether the module was closed, which
// slows a CPU-bound guest about 17x (BenchmarkTermination). Those exits to Go are also
// the only points where the Go runtime can stop a goroutine that runs guest code, for
// a garbage collection or to run the watchdog: without any, a guest in a loop stalls
// the whole process.
//
// pbisync instead adds to the module a countdown global, an exported stop global
// (stopGlobal) and a function $tick, and at every function entry and loop header
// `countdown -= 1; if countdown == 0 { call $tick }`: a register decrement, a store
// and a branch. Every tickEvery rounds, $tick leaves native code once (memory.grow 0,
// which wazero runs in Go), then traps if the host set the stop global, then restarts
// the countdown. The stop global is read in $tick, a function of its own, because
// wazero keeps a global in a register within a function and reloads it only after
// calls. The additions go at the end of their index spaces, so no index the module
// uses changes. A module this rewriter cannot read (an opcode it does not know, no
// memory) runs with close-on-context-done.

// tickEvery is how many loop rounds or calls pass between two visits to Go.
const tickEvery = 1 << 14

// stopGlobal is the export the host adds; a module that already has it is not rewritten.
const stopGlobal = "pbisync_stop"

var errCannotInstrument = errors.New("cannot instrument")

// instrument returns the module with the stop checks added, or errCannotInstrument
// (wrapped) when it cannot read it.
func instrument(wasm []byte) ([]byte, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" || string(wasm[4:8]) != "\x01\x00\x00\x00" {
		return nil, fmt.Errorf("%w: not a WebAssembly 1.0 module", errCannotInstrument)
	}
	type section struct {
		id   byte
		body []byte
	}
	var secs []section
	for p := wasm[8:]; len(p) > 0; {
		id := p[0]
		size, n, err := uleb(p[1:])
		if err != nil || uint64(len(p)-1-n) < size {
			return nil, fmt.Errorf("%w: truncated section", errCannotInstrument)
		}
		secs = append(secs, section{id, p[1+n : 1+n+int(size)]})
		p = p[1+n+int(size):]
	}
	var importedGlobals, definedGlobals, importedFuncs, definedFuncs, types uint64
	has := map[byte]bool{}
	for _, s := range secs {
		var err error
		has[s.id] = true
		switch s.id {
		case 1:
			types, _, err = uleb(s.body)
		case 2:
			importedFuncs, importedGlobals, err = countImports(s.body)
		case 3:
			definedFuncs, _, err = uleb(s.body)
		case 6:
			definedGlobals, _, err = uleb(s.body)
		case 7:
			err = checkExportName(s.body)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errCannotInstrument, err)
		}
	}
	if !has[10] || !has[3] {
		return nil, fmt.Errorf("%w: no code", errCannotInstrument)
	}
	if !has[5] {
		return nil, fmt.Errorf("%w: the module defines no memory", errCannotInstrument)
	}
	countdown, stop := importedGlobals+definedGlobals, importedGlobals+definedGlobals+1
	tick := importedFuncs + definedFuncs
	// At each site: countdown -= 1; if countdown == 0 { call $tick }
	check := appendULEB([]byte{0x23}, countdown)
	check = append(check, 0x41, 0x01, 0x6b, 0x24)
	check = appendULEB(check, countdown)
	check = appendULEB(append(check, 0x23), countdown)
	check = appendULEB(append(check, 0x45, 0x04, 0x40, 0x10), tick)
	check = append(check, 0x0b)
	// $tick: memory.grow 0 (a visit to Go); if stop { unreachable }; countdown = tickEvery
	tickBody := []byte{0x00, 0x41, 0x00, 0x40, 0x00, 0x1a, 0x23}
	tickBody = appendULEB(tickBody, stop)
	tickBody = append(tickBody, 0x04, 0x40, 0x00, 0x0b, 0x41)
	tickBody = appendSLEB(tickBody, tickEvery)
	tickBody = appendULEB(append(tickBody, 0x24), countdown)
	tickBody = append(tickBody, 0x0b)
	tickBody = append(appendULEB(nil, uint64(len(tickBody))), tickBody...)
	globals := append([]byte{0x7f, 0x01, 0x41}, appendSLEB(nil, tickEvery)...)
	globals = append(globals, 0x0b, 0x7f, 0x01, 0x41, 0x00, 0x0b) // countdown, stop
	add := map[byte][]byte{
		1: {0x60, 0x00, 0x00},     // type () -> ()
		3: appendULEB(nil, types), // $tick has that type
		6: globals,
		7: append(appendName(nil, stopGlobal), append([]byte{0x03}, appendULEB(nil, stop)...)...),
	}
	added := map[byte]uint64{1: 1, 3: 1, 6: 2, 7: 1}
	// rank orders the known sections (custom sections keep their place).
	rank := map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}
	out := append([]byte{}, wasm[:8]...)
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = appendULEB(out, uint64(len(body)))
		out = append(out, body...)
	}
	placed := map[byte]bool{}
	for id := range add {
		placed[id] = has[id]
	}
	// placeMissing emits the new sections that come before a section of rank r.
	placeMissing := func(r int) {
		for _, id := range []byte{1, 6, 7} {
			if !placed[id] && rank[id] < r {
				emit(id, append(appendULEB(nil, added[id]), add[id]...))
				placed[id] = true
			}
		}
	}
	for _, s := range secs {
		if s.id != 0 {
			placeMissing(rank[s.id])
		}
		switch s.id {
		case 1, 3, 6, 7:
			body, err := appendToVector(s.body, add[s.id], added[s.id])
			if err != nil {
				return nil, err
			}
			emit(s.id, body)
		case 10:
			body, err := instrumentCode(s.body, check, tickBody)
			if err != nil {
				return nil, err
			}
			emit(10, body)
		default:
			emit(s.id, s.body)
		}
	}
	placeMissing(100)
	return out, nil
}

func appendULEB(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func appendSLEB(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendName(b []byte, s string) []byte {
	return append(appendULEB(b, uint64(len(s))), s...)
}

// appendToVector adds count encoded items to a section that is a vector.
func appendToVector(body, items []byte, count uint64) ([]byte, error) {
	n, k, err := uleb(body)
	if err != nil {
		return nil, fmt.Errorf("%w: bad vector", errCannotInstrument)
	}
	out := appendULEB(nil, n+count)
	out = append(out, body[k:]...)
	return append(out, items...), nil
}

// reader walks bytes; any read past the end sets err.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", errCannotInstrument, what)
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.fail("unexpected end")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) u() uint64 {
	v, n, err := uleb(r.b)
	if err != nil {
		r.fail("bad LEB128")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// s skips a signed LEB128 number and returns its value (up to 64 bits).
func (r *reader) s() int64 {
	var v int64
	var shift uint
	for i := 0; i < 10; i++ {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v
		}
	}
	r.fail("bad LEB128")
	return 0
}

func (r *reader) skip(n uint64) {
	if uint64(len(r.b)) < n {
		r.fail("unexpected end")
		return
	}
	r.b = r.b[n:]
}

func (r *reader) name() string {
	n := r.u()
	if uint64(len(r.b)) < n {
		r.fail("unexpected end")
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// valType skips a value type, with the heap type of a (ref null? ht).
func (r *reader) valType() {
	if v := r.s(); v == -29 || v == -28 { // 0x63, 0x64
		r.s()
	}
}

// countImports counts the functions and globals a module imports.
func countImports(body []byte) (funcs, globals uint64, err error) {
	r := &reader{b: body}
	for n := r.u(); n > 0 && r.err == nil; n-- {
		r.name()
		r.name()
		switch r.byte() {
		case 0: // function: type index
			r.u()
			funcs++
		case 1: // table: reftype, limits
			r.valType()
			r.limits()
		case 2: // memory: limits
			r.limits()
		case 3: // global: valtype, mutability
			r.valType()
			r.byte()
			globals++
		case 4: // tag: attribute, type index
			r.byte()
			r.u()
		default:
			r.fail("unknown import kind")
		}
	}
	return funcs, globals, r.err
}

func (r *reader) limits() {
	flags := r.byte()
	r.u()
	if flags&1 != 0 {
		r.u()
	}
}

func checkExportName(body []byte) error {
	r := &reader{b: body}
	for n := r.u(); n > 0 && r.err == nil; n-- {
		if r.name() == stopGlobal {
			return fmt.Errorf("%w: the module already exports %s", errCannotInstrument, stopGlobal)
		}
		r.byte()
		r.u()
	}
	return r.err
}

// instrumentCode adds check at the entry of every function body and after every loop
// header of the code section, and appends the body of $tick.
func instrumentCode(body, check, tickBody []byte) ([]byte, error) {
	r := &reader{b: body}
	count := r.u()
	out := appendULEB(nil, count+1)
	for i := uint64(0); i < count && r.err == nil; i++ {
		size := r.u()
		if uint64(len(r.b)) < size {
			r.fail("truncated function body")
			break
		}
		fn := &reader{b: r.b[:size]}
		r.b = r.b[size:]
		for locals := fn.u(); locals > 0 && fn.err == nil; locals-- {
			fn.u()
			fn.valType()
		}
		if fn.err != nil {
			return nil, fn.err
		}
		head := size - uint64(len(fn.b))
		var nb []byte
		nb = append(nb, body[len(body)-len(r.b)-int(size):][:head]...)
		nb = append(nb, check...)
		for len(fn.b) > 0 && fn.err == nil {
			start := fn.b
			op := fn.byte()
			skipImmediates(fn, op)
			nb = append(nb, start[:len(start)-len(fn.b)]...)
			if op == 0x03 { // loop: check at every iteration
				nb = append(nb, check...)
			}
		}
		if fn.err != nil {
			return nil, fn.err
		}
		out = appendULEB(out, uint64(len(nb)))
		out = append(out, nb...)
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("bytes after the code section's functions")
	}
	return append(out, tickBody...), r.err
}

// skipImmediates skips the immediates of one instruction whose opcode was read.
func skipImmediates(r *reader, op byte) {
	switch {
	case op == 0x02 || op == 0x03 || op == 0x04 || op == 0x06: // block, loop, if, try
		r.blockType()
	case op == 0x07 || op == 0x08 || op == 0x09 || op == 0x18: // catch, throw, rethrow, delegate
		r.u()
	case op == 0x0c || op == 0x0d || op == 0xd4 || op == 0xd6: // br, br_if, br_on_null, br_on_non_null
		r.u()
	case op == 0x0e: // br_table
		for n := r.u(); n > 0 && r.err == nil; n-- {
			r.u()
		}
		r.u()
	case op == 0x10 || op == 0x12 || op == 0x14 || op == 0x15 || op == 0xd2: // call, return_call, call_ref, return_call_ref, ref.func
		r.u()
	case op == 0x11 || op == 0x13: // call_indirect, return_call_indirect
		r.u()
		r.u()
	case op == 0x1c: // select t*
		for n := r.u(); n > 0 && r.err == nil; n-- {
			r.valType()
		}
	case op == 0x1f: // try_table
		r.blockType()
		for n := r.u(); n > 0 && r.err == nil; n-- {
			if k := r.byte(); k <= 1 {
				r.u()
			}
			r.u()
		}
	case op >= 0x20 && op <= 0x26: // local.*, global.*, table.get/set
		r.u()
	case op >= 0x28 && op <= 0x3e: // loads and stores
		r.memarg()
	case op == 0x3f || op == 0x40: // memory.size, memory.grow
		r.u()
	case op == 0x41 || op == 0x42: // i32.const, i64.const
		r.s()
	case op == 0x43:
		r.skip(4)
	case op == 0x44:
		r.skip(8)
	case op == 0xd0: // ref.null heaptype
		r.s()
	case op == 0xfc:
		skipFC(r, r.u())
	case op == 0xfd:
		skipSIMD(r, r.u())
	case op <= 0x01, op == 0x05, op == 0x0a, op == 0x0b, op == 0x0f, op == 0x19, op == 0x1a, op == 0x1b,
		op >= 0x45 && op <= 0xc4, op == 0xd1, op == 0xd3, op == 0xd5:
		// no immediates
	default:
		r.fail(fmt.Sprintf("opcode 0x%02x", op))
	}
}

func (r *reader) blockType() {
	if v := r.s(); v == -29 || v == -28 {
		r.s()
	}
}

func (r *reader) memarg() {
	if align := r.u(); align&0x40 != 0 { // multi-memory: a memory index follows
		r.u()
	}
	r.u()
}

func skipFC(r *reader, sub uint64) {
	switch {
	case sub <= 7: // saturating truncations
	case sub == 8: // memory.init
		r.u()
		r.u()
	case sub == 9, sub == 11, sub == 13, sub >= 15 && sub <= 17: // data.drop, memory.fill, elem.drop, table.grow/size/fill
		r.u()
	case sub == 10, sub == 12, sub == 14: // memory.copy, table.init, table.copy
		r.u()
		r.u()
	default:
		r.fail(fmt.Sprintf("opcode 0xfc %d", sub))
	}
}

func skipSIMD(r *reader, sub uint64) {
	switch {
	case sub <= 11, sub == 92, sub == 93: // v128 loads and stores
		r.memarg()
	case sub == 12, sub == 13: // v128.const, i8x16.shuffle
		r.skip(16)
	case sub >= 21 && sub <= 34: // extract_lane, replace_lane
		r.skip(1)
	case sub >= 84 && sub <= 91: // load_lane, store_lane
		r.memarg()
		r.skip(1)
	case sub <= 0x113: // the rest have no immediates
	default:
		r.fail(fmt.Sprintf("opcode 0xfd %d", sub))
	}
}
