// Package packed keeps many small records in large byte chunks that hold no pointers.
//
// A sync remembers a few facts of every asset of the tenant until its end (what events
// say of it, its key): as Go values, each a struct, a map entry and a handful of
// strings, they cost about a kilobyte an asset and give the garbage collector hundreds
// of thousands of objects to trace. Packed into chunks, they cost what their bytes
// are, and the collector skips the chunks.
//
// Records are written once and never move; their strings are read without a copy
// (Reader.Str points into the chunk). A record's first byte is its flags, which
// SetFlags changes in place: the one byte of a record that may change, so that no string
// read from a record ever does.
package packed

import (
	"encoding/binary"
	"strings"
	"unsafe"
)

// chunkSize is the size of a chunk; a record of more than a quarter of it gets a chunk
// of its own.
const chunkSize = 1 << 20

// Ref names a record of an Arena; 0 names none.
type Ref uint64

// Arena is an append-only store of records. The zero Arena is empty and ready.
type Arena struct {
	chunks [][]byte
}

// Append stores rec (its first byte the flags) and returns its Ref.
func (a *Arena) Append(rec []byte) Ref {
	n := binary.AppendUvarint(nil, uint64(len(rec)))
	need := len(n) + len(rec)
	last := len(a.chunks) - 1
	if last < 0 || cap(a.chunks[last])-len(a.chunks[last]) < need {
		size := chunkSize
		if need > chunkSize/4 {
			size = need
		}
		a.chunks = append(a.chunks, make([]byte, 0, size))
		last++
	}
	c := a.chunks[last]
	off := len(c)
	c = append(c, n...)
	a.chunks[last] = append(c, rec...)
	return Ref(uint64(last+1)<<32 | uint64(off))
}

// Bytes returns the record ref names, flags first. Its bytes other than the first
// must not be changed.
func (a *Arena) Bytes(ref Ref) []byte {
	c := a.chunks[int(ref>>32)-1]
	off := int(uint32(ref))
	n, w := binary.Uvarint(c[off:])
	return c[off+w : off+w+int(n) : off+w+int(n)]
}

// SetFlags ORs f into the flags of the record ref names.
func (a *Arena) SetFlags(ref Ref, f byte) { a.Bytes(ref)[0] |= f }

// Each calls f with every record, in the order they were appended.
func (a *Arena) Each(f func(ref Ref, rec []byte)) {
	for i, c := range a.chunks {
		for off := 0; off < len(c); {
			n, w := binary.Uvarint(c[off:])
			f(Ref(uint64(i+1)<<32|uint64(off)), c[off+w:off+w+int(n):off+w+int(n)])
			off += w + int(n)
		}
	}
}

// Size is the bytes the arena's chunks hold.
func (a *Arena) Size() int {
	n := 0
	for _, c := range a.chunks {
		n += cap(c)
	}
	return n
}

// Reset empties the arena; the records it held are not read again.
func (a *Arena) Reset() { a.chunks = nil }

// AppendStr appends s to a record being built, length first.
func AppendStr(rec []byte, s string) []byte {
	rec = binary.AppendUvarint(rec, uint64(len(s)))
	return append(rec, s...)
}

// AppendStrs appends a list of strings, its length first.
func AppendStrs(rec []byte, ss []string) []byte {
	rec = binary.AppendUvarint(rec, uint64(len(ss)))
	for _, s := range ss {
		rec = AppendStr(rec, s)
	}
	return rec
}

// AppendRef appends a Ref (8 bytes).
func AppendRef(rec []byte, r Ref) []byte { return binary.LittleEndian.AppendUint64(rec, uint64(r)) }

// Reader reads a record's fields in the order they were appended. The records it reads
// are the Arena's own, which wrote them: a short or garbled record is a bug, and reads
// of one panic.
type Reader struct {
	b []byte
}

// NewReader reads rec from its byte at: the first field after the flags is at 1.
func NewReader(rec []byte, at int) Reader { return Reader{b: rec[at:]} }

// Str reads a string; it shares the record's bytes.
func (r *Reader) Str() string {
	n, w := binary.Uvarint(r.b)
	b := r.b[w : w+int(n)]
	r.b = r.b[w+int(n):]
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// Strs reads a list of strings, nil for an empty one.
func (r *Reader) Strs() []string {
	n, w := binary.Uvarint(r.b)
	r.b = r.b[w:]
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = r.Str()
	}
	return out
}

// Byte reads a byte.
func (r *Reader) Byte() byte {
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	v, w := binary.Uvarint(r.b)
	r.b = r.b[w:]
	return v
}

// Ref reads a Ref.
func (r *Reader) Ref() Ref {
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return Ref(v)
}

// maxDict bounds a Dict: strings past it are written out in full.
const maxDict = 1 << 16

// Dict numbers the strings that repeat across records (a workspace's id and name, the
// first parts of keys, a web URL's pattern), so that a record holds a number for one.
// It copies what it keeps, and keeps at most maxDict strings. The zero Dict is empty.
type Dict struct {
	ids  map[string]uint32
	strs []string
}

// Append appends s to rec: its number in d, or s itself when d is full.
func (d *Dict) Append(rec []byte, s string) []byte {
	id, ok := d.ids[s]
	if !ok && len(d.strs) < maxDict {
		if d.ids == nil {
			d.ids = map[string]uint32{}
		}
		s = strings.Clone(s)
		id, ok = uint32(len(d.strs)), true
		d.ids[s] = id
		d.strs = append(d.strs, s)
	}
	if !ok {
		return AppendStr(binary.AppendUvarint(rec, 0), s)
	}
	return binary.AppendUvarint(rec, uint64(id)+1)
}

// DictStr reads a string that d.Append wrote.
func (r *Reader) DictStr(d *Dict) string {
	n, w := binary.Uvarint(r.b)
	r.b = r.b[w:]
	if n == 0 {
		return r.Str()
	}
	return d.strs[n-1]
}

// AppendKey appends a list of strings whose parts but the last repeat across records (a
// key's prefixes): its length, those parts numbered by d, and the last in full.
func (d *Dict) AppendKey(rec []byte, parts []string) []byte {
	rec = binary.AppendUvarint(rec, uint64(len(parts)))
	for i, p := range parts {
		if i < len(parts)-1 {
			rec = d.Append(rec, p)
		} else {
			rec = AppendStr(rec, p)
		}
	}
	return rec
}

// Key reads what d.AppendKey wrote; nil for an empty list.
func (r *Reader) Key(d *Dict) []string {
	n := r.Uvarint()
	if n == 0 {
		return nil
	}
	parts := make([]string, n)
	for i := range parts[:n-1] {
		parts[i] = r.DictStr(d)
	}
	parts[n-1] = r.Str()
	return parts
}
