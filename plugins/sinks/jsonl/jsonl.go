// Package jsonl is the JSON Lines sink: every event as one JSON object per line, in a
// file or on pbisync's standard output. The line format is sdk/event's JSON form.
package jsonl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
)

// Config is the sink's section in pipeline.yaml.
type Config struct {
	// Path is the file to write; "-" or empty means pbisync's standard output.
	Path string `json:"path"`
	// Append keeps what the file holds and adds to it; by default a sync replaces the
	// file whole when it completes (a refresh adds its events to it).
	Append bool `json:"append"`
	// KeepPartial keeps a failed sync's unfinished file as PATH.partial.
	KeepPartial bool `json:"keep_partial"`
	// Fsync makes every acknowledged batch durable on disk, not only in the OS cache.
	Fsync bool `json:"fsync"`
	// Kinds limits the events written (spec, removed, refresh, summary); empty means all.
	Kinds []string `json:"kinds"`
	// Format is "events" (the default: every event in its envelope) or "specs" (one bare
	// spec per line, for the spec events only: what `pbisync sync --snapshot` writes).
	Format string `json:"format"`
}

// Sink writes events as JSON Lines.
type Sink struct {
	cfg    Config
	stdout io.Writer
	logger *slog.Logger
	f      *sink.RunFile // the open run's file; nil when writing to stdout or between runs
	w      io.Writer     // f or stdout, while a run is open
	kinds  map[event.Kind]bool
	line   []byte        // the batch's lines (appendLine)
	buf    bytes.Buffer  // encoding/json's line, for what appendLine leaves to it
	enc    *json.Encoder // on buf, without HTML escaping
}

// New returns an unconfigured sink.
func New() *Sink { return &Sink{} }

// Check checks the config without opening the output (`pbisync validate`).
func (s *Sink) Check(_ context.Context, c sink.Config) error {
	return New().decode(c)
}

// decode decodes and checks the config: everything Configure does before it opens.
func (s *Sink) decode(c sink.Config) error {
	if err := c.Decode(&s.cfg); err != nil {
		return err
	}
	for i, k := range s.cfg.Kinds {
		switch event.Kind(k) {
		case event.KindSpec, event.KindRemoved, event.KindRefresh, event.KindSummary:
		default:
			return sink.ConfigErrorf(fmt.Sprintf("kinds.%d", i), "unknown event kind %q (want spec, removed, refresh or summary)", k)
		}
		if s.kinds == nil {
			s.kinds = map[event.Kind]bool{}
		}
		s.kinds[event.Kind(k)] = true
	}
	switch s.cfg.Format {
	case "", "events":
	case "specs":
		s.kinds = map[event.Kind]bool{event.KindSpec: true}
	default:
		return sink.ConfigErrorf("format", "format must be events or specs, got %q", s.cfg.Format)
	}
	return nil
}

// Configure opens the output.
func (s *Sink) Configure(_ context.Context, c sink.Config) error {
	if err := s.decode(c); err != nil {
		return err
	}
	s.enc = json.NewEncoder(&s.buf)
	s.enc.SetEscapeHTML(false)
	s.stdout, s.logger = c.Stdout, c.Logger
	if s.toStdout() {
		if s.stdout == nil {
			s.stdout = io.Discard
		}
	} else if err := checkPath(s.cfg.Path); err != nil {
		return sink.ConfigErrorf("path", "%v", err)
	}
	return nil
}

func (s *Sink) toStdout() bool { return s.cfg.Path == "" || s.cfg.Path == "-" }

// checkPath refuses a path that no run could write, before any run begins.
func checkPath(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s is a folder", path)
	}
	return nil
}

// Accepts names the event kinds the sink writes, so pbisync opens it only for runs
// that carry them (a file of specs is not opened by a refresh).
func (s *Sink) Accepts() []event.Kind {
	if s.kinds == nil {
		return nil
	}
	var out []event.Kind
	for _, k := range []event.Kind{event.KindSpec, event.KindRemoved, event.KindRefresh, event.KindSummary} {
		if s.kinds[k] {
			out = append(out, k)
		}
	}
	return out
}

// TakesChanges reports whether a sync of changes only can be written: an appending output
// whose file is there keeps every line it has, so the changes are added to them. A file
// that a sync replaces, standard output, or a file that is gone needs every asset.
// With nothing changed, a file that a sync replaces is left as it is, if it is there.
func (s *Sink) TakesChanges(_ context.Context, run sink.Run) bool {
	if s.toStdout() || (!s.cfg.Append && !run.Unchanged) {
		return false
	}
	st, err := os.Stat(s.cfg.Path)
	return err == nil && st.Mode().IsRegular() && st.Size() > 0
}

// Begin opens the run's file: a sync writes a replacement beside the path, renamed over
// it on Commit; a refresh, a stream or an appending output adds to the path.
func (s *Sink) Begin(_ context.Context, run sink.Run) error {
	if s.enc == nil {
		return errors.New("jsonl: not configured")
	}
	if s.toStdout() {
		s.w = s.stdout
		return nil
	}
	if run.ChangesOnly && !s.cfg.Append {
		// Nothing changed (TakesChanges took no other run): the file stays as it is.
		s.w = io.Discard
		return nil
	}
	f, err := sink.OpenRunFile(s.cfg.Path, run, sink.FileOptions{
		Append: s.cfg.Append, Fsync: s.cfg.Fsync, KeepPartial: s.cfg.KeepPartial, Logger: s.logger,
	})
	if err != nil {
		return err
	}
	s.f, s.w = f, f
	return nil
}

// Commit puts the run's file in place (a sync's replaces the path whole).
func (s *Sink) Commit(context.Context) error {
	if s.f == nil {
		s.w = nil
		return nil
	}
	err := s.f.Commit()
	s.f, s.w = nil, nil
	return err
}

// Abort leaves the path as it was before a sync (or with the whole lines a refresh added).
func (s *Sink) Abort(_ context.Context, reason string) error {
	if s.f == nil {
		s.w = nil
		return nil
	}
	err := s.f.Abort(reason)
	s.f, s.w = nil, nil
	return err
}

// RawJSONMetadata: json metadata values reach the sink as the host's bytes, which it
// writes out as they are once checked (encoding/json would only compact them).
func (s *Sink) RawJSONMetadata() {}

// WriteBatch writes the batch's lines with one write call.
func (s *Sink) WriteBatch(_ context.Context, events []event.Event) error {
	if s.w == nil {
		return errors.New("jsonl: no run is open")
	}
	s.line = s.line[:0]
	for i := range events {
		if err := s.appendEventLine(i, &events[i]); err != nil {
			return err
		}
	}
	return s.flushLines()
}

// Raw is the sink as its plugin serves it: it takes batches undecoded
// (sink.RawBatchWriter). In the specs format a spec's line is written straight from its
// bytes; what that leaves, and every event of the events format, is decoded and written
// as WriteBatch writes it. It is a type apart so that a sink embedding *Sink to change
// WriteBatch still has its WriteBatch called.
type Raw struct{ *Sink }

// NewRaw returns an unconfigured sink that takes batches undecoded.
func NewRaw() Raw { return Raw{New()} }

// WriteRawBatch implements sink.RawBatchWriter.
func (r Raw) WriteRawBatch(ctx context.Context, events []sink.RawEvent) error {
	return r.writeRawBatch(ctx, events)
}

func (s *Sink) writeRawBatch(_ context.Context, events []sink.RawEvent) error {
	if s.w == nil {
		return errors.New("jsonl: no run is open")
	}
	specsOnly := s.cfg.Format == "specs"
	s.line = s.line[:0]
	for i := range events {
		if specsOnly {
			// The line of the spec as an Encoder without HTML escaping writes it.
			if out, ok := events[i].AppendSpecJSON(s.line, false); ok {
				s.line = append(out, '\n')
				continue
			}
		}
		e, err := events[i].Decode()
		if err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
		if err := s.appendEventLine(i, &e); err != nil {
			return err
		}
	}
	return s.flushLines()
}

// appendEventLine adds event i's line to the batch's lines, if the sink writes its kind.
func (s *Sink) appendEventLine(i int, e *event.Event) error {
	if s.kinds != nil && !s.kinds[e.Kind] {
		return nil
	}
	specsOnly := s.cfg.Format == "specs"
	var ok bool
	if s.line, ok = appendLine(s.line, e, specsOnly); ok {
		return nil
	}
	// What appendLine leaves to encoding/json (refresh and summary events, values of
	// other types, values it refuses, with the error that names the fault).
	var ls lineSpec
	le := toLine(e, &ls)
	var v any = &le
	if specsOnly {
		v = le.Spec
	}
	s.buf.Reset()
	if err := s.enc.Encode(v); err != nil {
		if sp := e.Spec; sp != nil {
			return fmt.Errorf("event %d (asset %s): %w", i, sp.Key, err)
		}
		return fmt.Errorf("event %d: %w", i, err)
	}
	s.line = append(s.line, s.buf.Bytes()...)
	return nil
}

// flushLines writes the batch's lines with one write call.
func (s *Sink) flushLines() error {
	if len(s.line) == 0 {
		return nil
	}
	if _, err := s.w.Write(s.line); err != nil {
		return fmt.Errorf("writing %s: %w", s.name(), err)
	}
	if s.f != nil {
		return s.f.Sync()
	}
	return nil
}

func (s *Sink) name() string {
	if s.f == nil {
		return "stdout"
	}
	return s.cfg.Path
}

// Close ends the sink. A run still open is abandoned, as Abort would (the kit commits
// or aborts it before Close).
func (s *Sink) Close(ctx context.Context) error {
	if s.f != nil {
		return s.Abort(ctx, "closed with the run open")
	}
	if f, ok := s.stdout.(interface{ Sync() error }); ok && s.toStdout() {
		_ = f.Sync()
	}
	return nil
}
