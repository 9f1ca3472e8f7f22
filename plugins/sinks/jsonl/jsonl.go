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
	"os"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
)

// Config is the sink's section in pipeline.yaml.
type Config struct {
	// Path is the file to write; "-" or empty means pbisync's standard output.
	Path string `json:"path"`
	// Append keeps what the file holds and adds to it; by default each sync starts
	// the file afresh.
	Append bool `json:"append"`
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
	cfg   Config
	f     *os.File  // nil when writing to stdout
	w     io.Writer // f or stdout
	kinds map[event.Kind]bool
	buf   bytes.Buffer
	enc   *json.Encoder
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
	if s.cfg.Path == "" || s.cfg.Path == "-" {
		s.w = c.Stdout
		return nil
	}
	f, err := sink.OpenLinesFile(s.cfg.Path, s.cfg.Append, c.Resume)
	if err != nil {
		return sink.ConfigErrorf("path", "%v", err)
	}
	s.f, s.w = f, f
	return nil
}

// WriteBatch writes the batch's lines with one write call.
func (s *Sink) WriteBatch(_ context.Context, events []event.Event) error {
	if s.w == nil {
		return errors.New("jsonl: not configured")
	}
	s.buf.Reset()
	var ls lineSpec
	for i := range events {
		if s.kinds != nil && !s.kinds[events[i].Kind] {
			continue
		}
		le := toLine(&events[i], &ls)
		var v any = &le
		if s.cfg.Format == "specs" {
			v = le.Spec
		}
		if err := s.enc.Encode(v); err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
	}
	if s.buf.Len() == 0 {
		return nil
	}
	if _, err := s.w.Write(s.buf.Bytes()); err != nil {
		return fmt.Errorf("writing %s: %w", s.name(), err)
	}
	if s.cfg.Fsync && s.f != nil {
		if err := s.f.Sync(); err != nil {
			return fmt.Errorf("syncing %s: %w", s.name(), err)
		}
	}
	return nil
}

func (s *Sink) name() string {
	if s.f == nil {
		return "stdout"
	}
	return s.cfg.Path
}

// Close closes the file.
func (s *Sink) Close(context.Context) error {
	if s.f == nil {
		if f, ok := s.w.(interface{ Sync() error }); ok {
			_ = f.Sync()
		}
		return nil
	}
	err := s.f.Close()
	s.f, s.w = nil, nil
	if err != nil {
		return fmt.Errorf("closing %s: %w", s.cfg.Path, err)
	}
	return nil
}
