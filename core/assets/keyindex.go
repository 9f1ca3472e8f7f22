package assets

import (
	"fmt"

	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/sdk/spec"
)

// KeyIndex remembers which Power BI asset holds each final key during one sync, so
// two different assets that end with the same key (after translators) are reported
// instead of merged silently by a sink. It keeps one small entry per key.
type KeyIndex struct {
	owners map[string]spec.Identity
}

// NewKeyIndex returns an empty KeyIndex.
func NewKeyIndex() *KeyIndex {
	return &KeyIndex{owners: map[string]spec.Identity{}}
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
func (x *KeyIndex) Add(s *spec.AssetSpec) *record.Problem {
	k := keyString(s.Key)
	first, ok := x.owners[k]
	if !ok {
		x.owners[k] = s.PowerBI
		return nil
	}
	if first.Type == s.PowerBI.Type && first.ID == s.PowerBI.ID {
		return nil
	}
	return &record.Problem{Stage: "keys", Asset: s.PowerBI,
		Err: fmt.Errorf("key %q is also the key of %s; rename one with a translator", s.Key.String(), first)}
}

// Len returns how many distinct keys the index holds.
func (x *KeyIndex) Len() int { return len(x.owners) }
