// Package scratch keeps a few byte buffers for encoders that append into a scratch
// buffer and copy out the result. Unlike a sync.Pool it keeps them across garbage
// collections, which a sync that encodes hundreds of megabytes runs often: a buffer
// grown to a large model's lineage is grown once.
package scratch

// Buffers holds up to cap(Buffers) buffers of at most Max bytes each.
type Buffers struct {
	free chan []byte
	// Max is the largest buffer Put keeps; Initial the size of a new one.
	max, initial int
}

// New makes a holder of n buffers, each begun at initial bytes and kept up to max.
func New(n, initial, max int) *Buffers {
	return &Buffers{free: make(chan []byte, n), max: max, initial: initial}
}

// Get returns an empty buffer.
func (s *Buffers) Get() []byte {
	select {
	case b := <-s.free:
		return b[:0]
	default:
		return make([]byte, 0, s.initial)
	}
}

// Put gives a buffer back; one grown past the maximum is left to the collector.
func (s *Buffers) Put(b []byte) {
	if cap(b) > s.max {
		return
	}
	select {
	case s.free <- b[:0]:
	default:
	}
}
