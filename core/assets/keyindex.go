package assets

import (
	"fmt"
	"hash/maphash"
	"strings"

	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/internal/packed"
	"github.com/pbisync/pbisync/sdk/spec"
)

// KeyIndex remembers which Power BI asset holds each final key during one sync, so
// two different assets that end with the same key (after translators) are reported
// instead of merged silently by a sink. It keeps one small record per key, packed (the
// key and its owner's identity, in an arena the garbage collector does not trace), found
// by the key's hash: about 150 bytes per asset of a large tenant.
type KeyIndex struct {
	seed   maphash.Seed
	arena  packed.Arena
	owners map[uint64]packed.Ref
	// clash holds, by their joined parts, the keys whose hash an earlier, different
	// key holds already.
	clash   map[string]packed.Ref
	scratch []byte
	// dict numbers what repeats: key prefixes, types, workspaces.
	dict packed.Dict
	// sum replaces the hash, for the tests of clashes.
	sum func(spec.Key) uint64
}

// NewKeyIndex returns an empty KeyIndex.
func NewKeyIndex() *KeyIndex {
	return &KeyIndex{seed: maphash.MakeSeed(), owners: map[uint64]packed.Ref{}}
}

// Reset empties the index, for the next sync: the keys of the last one no longer
// belong to anybody.
func (x *KeyIndex) Reset() {
	x.arena.Reset()
	x.owners, x.clash, x.dict = map[uint64]packed.Ref{}, nil, packed.Dict{}
}

// Check records the keys of a batch of records and returns a problem for each record
// whose key already belongs to another asset, naming both. The first asset keeps the
// key; the records themselves are not changed or dropped, the caller decides. The
// same asset (type and id) seen again is not a duplicate.
func (x *KeyIndex) Check(batch []record.Record) []record.Problem {
	var problems []record.Problem
	for i := range batch {
		if p := x.Add(&batch[i].Spec); p != nil {
			problems = append(problems, *p)
		}
	}
	return problems
}

// Add records one spec's key, returning a problem when another asset holds it.
func (x *KeyIndex) Add(s *spec.AssetSpec) *record.Problem { return x.Claim(s.Key, &s.PowerBI) }

// Claim records that the asset id holds key, returning a problem when another asset
// holds it. The index keeps copies of both.
func (x *KeyIndex) Claim(key spec.Key, id *spec.Identity) *record.Problem {
	h := x.hash(key)
	first, ok := x.owners[h]
	switch {
	case !ok:
		x.owners[h] = x.keep(key, id)
		return nil
	case !x.keyOf(first).Equal(key):
		// Another key with the same hash: by the joined parts instead.
		if x.clash == nil {
			x.clash = map[string]packed.Ref{}
		}
		k := keyString(key)
		if first, ok = x.clash[k]; !ok {
			x.clash[k] = x.keep(key, id)
			return nil
		}
	}
	owner := x.ownerOf(first)
	if owner.Type == id.Type && owner.ID == id.ID {
		return nil
	}
	// The problem outlives the index (a sync's result): its strings are copies.
	return &record.Problem{Stage: "keys", Asset: *id,
		Err: fmt.Errorf("key %q is also the key of %s; rename one with a translator", key.String(), owner)}
}

// A record is its flags (none), the key (its length, then its parts: all but the last
// numbered by dict), and the owner's type, id, name, workspace id and workspace name
// (the type and the workspace numbered).
func (x *KeyIndex) keep(key spec.Key, id *spec.Identity) packed.Ref {
	d := &x.dict
	b := d.AppendKey(append(x.scratch[:0], 0), key)
	b = d.Append(b, string(id.Type))
	b = packed.AppendStr(packed.AppendStr(b, id.ID), id.Name)
	b = d.Append(d.Append(b, id.WorkspaceID), id.WorkspaceName)
	x.scratch = b
	return x.arena.Append(b)
}

func (x *KeyIndex) keyOf(ref packed.Ref) spec.Key {
	r := packed.NewReader(x.arena.Bytes(ref), 1)
	return r.Key(&x.dict)
}

// ownerOf returns the identity of a key's owner, copied out of the arena.
func (x *KeyIndex) ownerOf(ref packed.Ref) spec.Identity {
	r := packed.NewReader(x.arena.Bytes(ref), 1)
	d := &x.dict
	r.Key(d)
	return spec.Identity{Type: spec.ContentType(r.DictStr(d)), ID: strings.Clone(r.Str()), Name: strings.Clone(r.Str()),
		WorkspaceID: r.DictStr(d), WorkspaceName: r.DictStr(d)}
}

func (x *KeyIndex) hash(key spec.Key) uint64 {
	if x.sum != nil {
		return x.sum(key)
	}
	var h maphash.Hash
	h.SetSeed(x.seed)
	for _, p := range key {
		h.WriteString(p)
		h.WriteByte(0) // keeps ["a/b"] apart from ["a","b"]
	}
	return h.Sum64()
}

// Len returns how many distinct keys the index holds.
func (x *KeyIndex) Len() int { return len(x.owners) + len(x.clash) }
