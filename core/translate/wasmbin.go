package translate

import (
	"errors"
	"fmt"
)

// checkInitialMemory refuses a module whose memory starts larger than limits.memory,
// with the sizes, before wazero's compiler refuses it with a less helpful message.
func checkInitialMemory(wasm []byte, limit uint64) error {
	pages, ok := initialMemoryPages(wasm)
	if !ok {
		return nil // not readable here: the compiler reports what is wrong
	}
	if need := uint64(pages) * 65536; need > limit {
		return fmt.Errorf("the module's memory starts at %s (%d pages), more than limits.memory (%s): raise limits.memory, or build the module with a smaller initial memory",
			sizeText(need), pages, sizeText(limit))
	}
	return nil
}

// initialMemoryPages reads the minimum of the first memory a module defines, from
// its memory section (id 5). ok is false when the bytes are not a module or define no
// memory.
func initialMemoryPages(wasm []byte) (uint32, bool) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return 0, false
	}
	p := wasm[8:]
	for len(p) > 0 {
		id := p[0]
		size, n, err := uleb(p[1:])
		if err != nil || uint64(len(p)-1-n) < size {
			return 0, false
		}
		body := p[1+n : 1+n+int(size)]
		p = p[1+n+int(size):]
		if id != 5 {
			continue
		}
		count, n, err := uleb(body)
		if err != nil || count == 0 {
			return 0, false
		}
		body = body[n:]
		if len(body) < 1 {
			return 0, false
		}
		min, _, err := uleb(body[1:]) // after the limits flag byte
		if err != nil || min > 1<<32-1 {
			return 0, false
		}
		return uint32(min), true
	}
	return 0, false
}

var errLEB = errors.New("bad LEB128")

// uleb decodes an unsigned LEB128 number of at most 64 bits; n is the bytes it took.
func uleb(b []byte) (v uint64, n int, err error) {
	var shift uint
	for i, c := range b {
		if i == 10 {
			break
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, i + 1, nil
		}
		shift += 7
	}
	return 0, 0, errLEB
}
