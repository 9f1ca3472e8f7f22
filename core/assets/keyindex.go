package assets

import (
	"fmt"
	"hash/maphash"
	"slices"

	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/sdk/spec"
)

// KeyIndex remembers which Power BI asset holds each final key during one sync, so
// two different assets that end with the same key (after translators) are reported
// instead of merged silently by a sink. It keeps one small entry per key: the key's
// hash, the key itself and its owner's identity, both shared with the caller when it
// keeps them anyway (AddKept), so that the index costs the sync of a large tenant a few
// dozen bytes per asset.
type KeyIndex struct {
	seed   maphash.Seed
	owners map[uint64]keyOwner
	// clash holds, by their joined parts, the keys whose hash an earlier, different
	// key holds already.
	clash map[string]keyOwner
	// sum replaces the hash, for the tests of clashes.
	sum func(spec.Key) uint64
}

type keyOwner struct {
	key spec.Key
	id  *spec.Identity
}

// NewKeyIndex returns an empty KeyIndex.
func NewKeyIndex() *KeyIndex {
	return &KeyIndex{seed: maphash.MakeSeed(), owners: map[uint64]keyOwner{}}
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

// Add records one spec's key, returning a problem when another asset holds it. It
// keeps copies of the key and the identity.
func (x *KeyIndex) Add(s *spec.AssetSpec) *record.Problem {
	id := s.PowerBI
	return x.AddKept(slices.Clone(s.Key), &id)
}

// AddKept is Add for a key and an identity the caller keeps unchanged for the life of
// the index (the sync's record of what it sent): the index holds them, not copies.
func (x *KeyIndex) AddKept(key spec.Key, id *spec.Identity) *record.Problem {
	h := x.hash(key)
	first, ok := x.owners[h]
	switch {
	case !ok:
		x.owners[h] = keyOwner{key: key, id: id}
		return nil
	case !first.key.Equal(key):
		// Another key with the same hash: by the joined parts instead.
		if x.clash == nil {
			x.clash = map[string]keyOwner{}
		}
		k := keyString(key)
		if first, ok = x.clash[k]; !ok {
			x.clash[k] = keyOwner{key: key, id: id}
			return nil
		}
	}
	if first.id.Type == id.Type && first.id.ID == id.ID {
		return nil
	}
	return &record.Problem{Stage: "keys", Asset: *id,
		Err: fmt.Errorf("key %q is also the key of %s; rename one with a translator", key.String(), *first.id)}
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
