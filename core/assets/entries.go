package assets

import (
	"hash/maphash"

	"github.com/pbisync/pbisync/internal/packed"
	"github.com/pbisync/pbisync/sdk/spec"
)

// entries is what the builder remembers of the data sources, models, reports or items
// of one kind that it saw, for the whole stream: each one's key, and whether it was
// built. The records are packed (entryStore), found by a hash of the id: a map of
// pointers to small structs cost the sync of a 4,000-workspace tenant 14 MB.
type entries struct {
	st   *entryStore
	refs map[uint64]packed.Ref
}

// entryStore holds the records of every kind of a builder.
type entryStore struct {
	arena   packed.Arena
	dict    packed.Dict // the key's parts but the last
	seed    maphash.Seed
	scratch []byte
}

// A record is its flags (entryBuilt), the Ref of the record before it in its chain, the
// id and the key.
const entryBuilt = 1

func newEntries(st *entryStore) entries { return entries{st: st, refs: map[uint64]packed.Ref{}} }

// entry names one record; the zero entry names none.
type entry struct {
	st  *entryStore
	ref packed.Ref
}

func (m entries) get(id string) entry {
	for ref := m.refs[maphash.String(m.st.seed, id)]; ref != 0; {
		r := packed.NewReader(m.st.arena.Bytes(ref), 1)
		next := r.Ref()
		if r.Str() == id {
			return entry{m.st, ref}
		}
		ref = next
	}
	return entry{}
}

// add records id, which get does not find, with its key.
func (m entries) add(id string, key spec.Key) {
	h := maphash.String(m.st.seed, id)
	b := packed.AppendStr(packed.AppendRef(append(m.st.scratch[:0], 0), m.refs[h]), id)
	b = m.st.dict.AppendKey(b, key)
	m.st.scratch = b
	m.refs[h] = m.st.arena.Append(b)
}

func (e entry) found() bool { return e.ref != 0 }

func (e entry) built() bool { return e.st.arena.Bytes(e.ref)[0]&entryBuilt != 0 }

func (e entry) setBuilt() { e.st.arena.SetFlags(e.ref, entryBuilt) }

// key returns the entry's key; its strings point into the store.
func (e entry) key() spec.Key {
	r := packed.NewReader(e.st.arena.Bytes(e.ref), 9)
	r.Str()
	return r.Key(&e.st.dict)
}
