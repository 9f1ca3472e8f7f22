package estate

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/cespare/xxhash/v2"
	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
)

// Sink keeps a pipeline's estate in the state store as a sync streams by: it stages every
// spec and removal, and commits them when the sync's summary arrives (the engine sends it
// only after a sync that completed). A run that ends without a summary (a failed sync, or
// a refresh) leaves the estate as it was. It is an in-process sink of the engine.
//
// An asset whose summary, event and related messages are those the estate keeps (their
// digest is the kept row's) is not staged again: its row stays, which is what a commit
// does with an asset the sync did not send. A full sync of a tenant that changed little
// writes little.
type Sink struct {
	st       *state.Store
	pipeline string

	mu     sync.Mutex
	run    *state.EstateRun
	rows   []state.EstateRow
	commit bool
	// stageRows and stageBytes bound the rows held before they are staged.
	stageRows, stageBytes int
	// staged and unchanged count the spec events written and left as kept.
	staged, unchanged int
	// kept holds the staged rows' kept events and related messages, back to back, until
	// they are staged (spans says where each row's are): one buffer reused by every
	// stage, instead of two allocations per asset. The rows' slices are set at the stage.
	kept  []byte
	spans []keptSpan
	// unstaged are the digests of the rows not staged yet, by asset: what the store
	// does not know yet of this run.
	unstaged map[assetRef][]byte
	// staging is the stage in flight, if any: rows are staged in the background
	// while the next ones are taken, one stage at a time. Its digests are, beside
	// unstaged, what the store may not know yet.
	staging *stageJob
	// spare holds the buffers of the last stage that finished, for the next rows.
	spare stageJob
	// settled are the digests of the stages that finished during the window being
	// taken: the digests the store gave at its start are older than them.
	settled map[assetRef][]byte
	// Scratch reused by every Write: the window's related messages (back to back), and
	// what each of its spec events is.
	rel    []byte
	window []candidate
	enc    keptEncoder
	// sum holds a summary's JSON (Summary.AppendJSON) until it is copied into its row.
	sum []byte
}

// stageJob is one stage's rows, what they hold, and their digests by asset; done is
// closed when the store has them (err says how it went).
type stageJob struct {
	rows    []state.EstateRow
	spans   []keptSpan
	kept    []byte
	digests map[assetRef][]byte
	done    chan struct{}
	err     error
}

// keptSpan is where a row's event and related messages are in Sink.kept: kept[at:rel]
// and kept[rel:end].
type keptSpan struct{ at, rel, end int }

type assetRef struct{ typ, id string }

// candidate is a spec event of a window: its summary, its protocol encoding (shared with
// the outputs), where its related message is in Sink.rel, and its digest.
type candidate struct {
	ref             assetRef
	summary         string
	pb              []byte
	rel0, rel1      int
	digest          [8]byte
	keptDigest      []byte // the store's, if any
	keptDigestKnown bool
}

// NewSink returns the estate sink of a pipeline on a state store.
func NewSink(st *state.Store, pipeline string) *Sink {
	return &Sink{st: st, pipeline: pipeline, stageRows: stageRows, stageBytes: stageBytes}
}

// Counts returns how many spec events the sink staged, and how many it left out because
// the estate keeps them as they are.
func (s *Sink) Counts() (staged, unchanged int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.staged, s.unchanged
}

// Name implements the engine's Sink.
func (s *Sink) Name() string { return "estate" }

// TakesEncoded tells the engine that the sink keeps spec events in the sink protocol's
// encoding (sdk/sink.EventBytesShared).
func (s *Sink) TakesEncoded() bool { return true }

// The rows held before they are staged are bounded by count and by the bytes of their
// kept events (about 2 KB an asset compressed; 4 MiB is some 2,000 assets of the
// generated tenant); with the stage in flight, twice that is held. Each stage is a
// transaction, and each transaction rewrites the pages of the asset indexes it touched
// (the rows are staged in index order): a few large stages write less than many small
// ones, for a bounded memory. Stages of 8 MiB, two held, took the 2,000-workspace full
// sync's peak to 361-389 MB against 341 MB. The events of one Write are looked at in
// windows of windowEvents (their protocol encodings are held until the store said
// which changed).
const (
	stageRows    = 2000
	stageBytes   = 4 << 20
	windowEvents = 500
)

// Write stages spec and removed events; the summary marks the sync complete.
func (s *Sink) Write(ctx context.Context, events []event.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for start := 0; start < len(events); start += windowEvents {
		if err := s.take(ctx, events[start:min(start+windowEvents, len(events))]); err != nil {
			return err
		}
		if len(s.rows) >= s.stageRows || len(s.kept) >= s.stageBytes {
			if err := s.flush(ctx); err != nil {
				return err
			}
		}
	}
	if s.commit {
		return s.flushAll(ctx)
	}
	return nil
}

// flushAll stages every row taken and waits until the store has them.
func (s *Sink) flushAll(ctx context.Context) error {
	if err := s.flush(ctx); err != nil {
		return err
	}
	return s.wait()
}

// take adds a window's events to the rows to stage, leaving out the specs the estate
// keeps as they are.
func (s *Sink) take(ctx context.Context, events []event.Event) error {
	clear(s.window) // no reference to the last window's events is kept
	clear(s.settled)
	s.rel, s.window = s.rel[:0], s.window[:0]
	for i := range events {
		ev := &events[i]
		switch ev.Kind {
		case event.KindSpec:
			c, err := s.candidate(ev)
			if err != nil {
				return fmt.Errorf("estate: asset %s: %w", ev.Spec.Key, err)
			}
			s.window = append(s.window, c)
		case event.KindRemoved:
			s.rows = append(s.rows, state.EstateRow{Type: string(ev.Removed.PowerBI.Type), ID: ev.Removed.PowerBI.ID, Removed: true})
			s.spans = append(s.spans, keptSpan{})
		case event.KindSummary:
			s.commit = true
		}
	}
	if len(s.window) == 0 {
		return nil
	}
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := s.keptDigests(ctx); err != nil {
		return err
	}
	for i := range s.window {
		c := &s.window[i]
		kept, ok := s.unstaged[c.ref]
		if !ok && s.staging != nil {
			kept, ok = s.staging.digests[c.ref]
		}
		if !ok {
			kept, ok = s.settled[c.ref]
		}
		if !ok && c.keptDigestKnown {
			kept, ok = c.keptDigest, true
		}
		if ok && bytes.Equal(kept, c.digest[:]) {
			s.unchanged++ // the estate keeps it as it is
			continue
		}
		s.staged++
		sp := keptSpan{at: len(s.kept)}
		s.kept = s.enc.appendPacked(s.kept, c.pb)
		sp.rel = len(s.kept)
		s.kept = append(s.kept, s.rel[c.rel0:c.rel1]...)
		sp.end = len(s.kept)
		digest := bytes.Clone(c.digest[:]) // the window is reused by the next one
		s.rows = append(s.rows, state.EstateRow{Type: c.ref.typ, ID: c.ref.id, Summary: c.summary, Digest: digest})
		s.spans = append(s.spans, sp)
		if s.unstaged == nil {
			s.unstaged = map[assetRef][]byte{}
		}
		s.unstaged[c.ref] = digest
		// A stage starts as soon as its bound is reached, not at the end of the window
		// (500 models' events would be as much again), so that its buffer stays near
		// stageBytes.
		if len(s.rows) >= s.stageRows || len(s.kept) >= s.stageBytes {
			if err := s.flush(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// candidate encodes a spec event's summary, protocol message and related message, and
// their digest.
func (s *Sink) candidate(ev *event.Event) (candidate, error) {
	c := candidate{ref: assetRef{typ: string(ev.Spec.PowerBI.Type), id: ev.Spec.PowerBI.ID}}
	var err error
	sum := Summarize(ev.Spec)
	s.sum = sum.AppendJSON(s.sum[:0])
	c.summary = string(s.sum)
	// No page is written: a page is made from the kept event when it is read (one at a
	// time, by the UI), which costs the sync nothing.
	// The bytes the outputs are sent, made once per event (sdk/sink.EventBytesShared).
	if c.pb, err = sink.EventBytesShared(ev); err != nil {
		return c, err
	}
	c.rel0 = len(s.rel)
	if s.rel, err = appendRelated(s.rel, RelatedOf(ev.Spec)); err != nil {
		return c, err
	}
	c.rel1 = len(s.rel)
	binary.BigEndian.PutUint64(c.digest[:], rowDigest(c.summary, c.pb, s.rel[c.rel0:c.rel1]))
	return c, nil
}

// rowDigest is the digest of what an estate row holds: its summary, and its event (in
// the protocol's encoding, before compression) and related messages, each preceded by
// its length. It is xxHash64: a sync's content, not an adversary's, is what it tells
// apart (two different rows of the same asset would have to collide).
func rowDigest(summary string, pb, rel []byte) uint64 {
	var d xxhash.Digest
	d.Reset()
	var n [binary.MaxVarintLen64]byte
	d.Write(binary.AppendUvarint(n[:0], uint64(len(summary))))
	d.WriteString(summary)
	d.Write(binary.AppendUvarint(n[:0], uint64(len(pb))))
	d.Write(pb)
	d.Write(binary.AppendUvarint(n[:0], uint64(len(rel))))
	d.Write(rel)
	return d.Sum64()
}

// keptDigests asks the store for the digests of the window's assets that no unstaged
// row of this run names.
func (s *Sink) keptDigests(ctx context.Context) error {
	if s.run.Committed() == 0 {
		// The estate keeps nothing yet: every asset is staged (one sent twice is
		// staged twice, the last replacing the first).
		return nil
	}
	byType := map[string][]string{}
	for i := range s.window {
		c := &s.window[i]
		if _, ok := s.unstaged[c.ref]; ok {
			continue
		}
		if s.staging != nil {
			if _, ok := s.staging.digests[c.ref]; ok {
				continue
			}
		}
		byType[c.ref.typ] = append(byType[c.ref.typ], c.ref.id)
	}
	if len(byType) == 0 {
		return nil
	}
	found := map[assetRef][]byte{}
	for _, typ := range slices.Sorted(maps.Keys(byType)) {
		err := s.run.KeptDigests(ctx, typ, byType[typ], func(id string, digest []byte) { found[assetRef{typ, id}] = digest })
		if err != nil {
			return err
		}
	}
	for i := range s.window {
		c := &s.window[i]
		c.keptDigest, c.keptDigestKnown = found[c.ref]
	}
	return nil
}

func (s *Sink) begin(ctx context.Context) error {
	if s.run != nil {
		return nil
	}
	run, err := s.st.BeginEstate(ctx, s.pipeline)
	if err != nil {
		return err
	}
	s.run = run
	return nil
}

// flush hands the rows taken so far to a stage in the background, once the stage in
// flight, if any, is done; the next rows go to the buffers that stage had. A stage's
// error is returned by the next flush (or wait).
func (s *Sink) flush(ctx context.Context) error {
	if err := s.wait(); err != nil {
		return err
	}
	if len(s.rows) == 0 {
		return nil
	}
	if err := s.begin(ctx); err != nil {
		return err
	}
	for i, sp := range s.spans {
		if !s.rows[i].Removed {
			s.rows[i].Event, s.rows[i].Related = s.kept[sp.at:sp.rel:sp.rel], s.kept[sp.rel:sp.end:sp.end]
		}
	}
	job := &stageJob{rows: s.rows, spans: s.spans, kept: s.kept, digests: s.unstaged, done: make(chan struct{})}
	s.rows, s.spans, s.kept, s.unstaged = s.spare.rows, s.spare.spans, s.spare.kept, s.spare.digests
	s.spare = stageJob{}
	s.staging = job
	run := s.run
	go func() {
		defer close(job.done)
		job.err = run.Stage(ctx, job.rows)
	}()
	return nil
}

// wait waits for the stage in flight, if any, and returns its error. Stage copied what
// it kept: the stage's buffers are emptied for the next one, and the store now knows
// the digests of its rows (settled keeps them for the rest of the window, whose
// digests from the store are older).
func (s *Sink) wait() error {
	job := s.staging
	if job == nil {
		return nil
	}
	<-job.done
	s.staging = nil
	clear(job.rows)
	if s.settled == nil {
		s.settled = map[assetRef][]byte{}
	}
	maps.Copy(s.settled, job.digests)
	clear(job.digests)
	s.spare = stageJob{rows: job.rows[:0], spans: job.spans[:0], kept: job.kept[:0], digests: job.digests}
	return job.err
}

// Close commits the staged estate if the sync completed, and drops it otherwise.
func (s *Sink) Close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.commit {
		_ = s.wait() // the rows are dropped with the run, whatever their stage did
		if s.run != nil {
			return s.run.Abort(ctx)
		}
		return nil
	}
	if err := s.flushAll(ctx); err != nil {
		return err
	}
	if err := s.begin(ctx); err != nil { // a sync with nothing in it still says so
		return err
	}
	return s.run.Commit(ctx)
}
