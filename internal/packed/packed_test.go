package packed

import (
	"fmt"
	"strings"
	"testing"
)

func TestArenaKeepsRecords(t *testing.T) {
	var a Arena
	type want struct {
		ref  Ref
		strs []string
		next Ref
	}
	var all []want
	// Enough records for several chunks, one larger than a chunk, and empty strings.
	for i := range 30000 {
		strs := []string{fmt.Sprintf("asset-%d", i), "", strings.Repeat("x", i%97)}
		if i == 777 {
			strs = append(strs, strings.Repeat("big", chunkSize/2))
		}
		var prev Ref
		if len(all) > 0 {
			prev = all[len(all)-1].ref
		}
		rec := AppendRef([]byte{0}, prev)
		rec = AppendStrs(rec, strs)
		rec = AppendStr(rec, "end")
		all = append(all, want{ref: a.Append(rec), strs: strs, next: prev})
	}
	a.SetFlags(all[5].ref, 4)
	a.SetFlags(all[5].ref, 1)
	check := func(i int, ref Ref, rec []byte) {
		t.Helper()
		w := all[i]
		if ref != w.ref {
			t.Fatalf("record %d: ref %x, want %x", i, ref, w.ref)
		}
		flags := byte(0)
		if i == 5 {
			flags = 5
		}
		if rec[0] != flags {
			t.Errorf("record %d: flags %d, want %d", i, rec[0], flags)
		}
		r := NewReader(rec, 1)
		if got := r.Ref(); got != w.next {
			t.Errorf("record %d: next %x, want %x", i, got, w.next)
		}
		if got := r.Strs(); strings.Join(got, "|") != strings.Join(w.strs, "|") {
			t.Errorf("record %d: strings differ", i)
		}
		if got := r.Str(); got != "end" {
			t.Errorf("record %d: last field %q", i, got)
		}
	}
	for i, w := range all {
		check(i, w.ref, a.Bytes(w.ref))
	}
	n := 0
	a.Each(func(ref Ref, rec []byte) { check(n, ref, rec); n++ })
	if n != len(all) {
		t.Errorf("Each saw %d records, want %d", n, len(all))
	}
	// A string read from a record stays as it was while the arena grows.
	r0 := NewReader(a.Bytes(all[0].ref), 9)
	s := r0.Strs()[0]
	for range 1000 {
		a.Append(AppendStr([]byte{0}, strings.Repeat("y", 500)))
	}
	if s != "asset-0" {
		t.Errorf("a string read earlier changed to %q", s)
	}
}

func TestEmptyStrs(t *testing.T) {
	var a Arena
	rec := AppendStrs([]byte{0}, []string{"a", "bb"})
	rec = AppendStrs(rec, nil)
	rec = AppendStr(rec, "c")
	r := NewReader(a.Bytes(a.Append(rec)), 1)
	if got := r.Strs(); strings.Join(got, "|") != "a|bb" {
		t.Errorf("the first list reads as %q", got)
	}
	if got := r.Strs(); got != nil {
		t.Errorf("an empty list reads as %v, want nil", got)
	}
	if got := r.Str(); got != "c" {
		t.Errorf("after the lists: %q", got)
	}
}

func TestDict(t *testing.T) {
	var d Dict
	var a Arena
	var refs []Ref
	for i := range maxDict + 10 {
		rec := d.Append([]byte{0}, fmt.Sprintf("ws-%d", i))
		rec = d.Append(rec, "shared")
		refs = append(refs, a.Append(rec))
	}
	if len(d.strs) != maxDict {
		t.Errorf("the dict holds %d strings, want %d", len(d.strs), maxDict)
	}
	for i, ref := range refs {
		r := NewReader(a.Bytes(ref), 1)
		if got, want := r.DictStr(&d), fmt.Sprintf("ws-%d", i); got != want {
			t.Fatalf("record %d: %q, want %q", i, got, want)
		}
		if got := r.DictStr(&d); got != "shared" {
			t.Fatalf("record %d: %q", i, got)
		}
	}
	// A repeated string costs its number: one or two bytes here.
	if n := len(a.Bytes(refs[1])); n > 5 {
		t.Errorf("a record of two numbered strings takes %d bytes", n)
	}
}

func TestKey(t *testing.T) {
	var d Dict
	var a Arena
	keys := [][]string{{"my_prefix", "report", "Sales"}, {"one"}, nil, {"my_prefix", "report", ""}, {"", "x"}}
	var refs []Ref
	for _, k := range keys {
		refs = append(refs, a.Append(AppendStr(d.AppendKey([]byte{0}, k), "after")))
	}
	for i, ref := range refs {
		r := NewReader(a.Bytes(ref), 1)
		if got := r.Key(&d); strings.Join(got, "|") != strings.Join(keys[i], "|") || len(got) != len(keys[i]) || (keys[i] == nil) != (got == nil) {
			t.Errorf("key %d: %q, want %q", i, got, keys[i])
		}
		if got := r.Str(); got != "after" {
			t.Errorf("key %d: the next field reads %q", i, got)
		}
	}
	// The prefixes are numbered: the dict holds "my_prefix", "report" and "".
	if len(d.strs) != 3 {
		t.Errorf("the dict holds %q", d.strs)
	}
}
