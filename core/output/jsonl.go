// Package output holds pbisync's built-in, in-process outputs.
package output

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/sdk/event"
)

// JSONLConfig is the YAML of a `jsonl` output.
type JSONLConfig struct {
	// Path is the file to write; "-" or empty writes to standard output.
	Path string `yaml:"path"`
	// Format is "specs" (one spec per line, the default) or "events" (every event,
	// removals, refreshes and the summary included, one per line).
	Format string `yaml:"format"`
}

// Validate checks the config; n is where it came from.
func (c *JSONLConfig) Validate(n config.Node) error {
	switch c.Format {
	case "":
		c.Format = "specs"
	case "specs", "events":
	default:
		return config.Errorf(n.Child("format"), "format must be specs or events, got %q", c.Format)
	}
	return nil
}

// JSONL writes events as JSON Lines. A file is written beside its final name and
// renamed into place by Close, so a failed sync never leaves half a file.
type JSONL struct {
	name   string
	cfg    JSONLConfig
	w      *bufio.Writer
	enc    *json.Encoder
	f      *os.File // nil for standard output
	final  string
	stdout io.Writer
	n      int
}

// NewJSONL opens the output. stdout is used when the path is "-" or empty.
func NewJSONL(name string, cfg JSONLConfig, stdout io.Writer) (*JSONL, error) {
	if cfg.Format == "" {
		cfg.Format = "specs"
	}
	j := &JSONL{name: name, cfg: cfg, stdout: stdout}
	var w io.Writer = stdout
	if cfg.Path != "" && cfg.Path != "-" {
		if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o755); err != nil {
			return nil, fmt.Errorf("output %s: %w", name, err)
		}
		f, err := os.CreateTemp(filepath.Dir(cfg.Path), "."+filepath.Base(cfg.Path)+".*")
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", name, err)
		}
		j.f, j.final, w = f, cfg.Path, f
	}
	j.w = bufio.NewWriterSize(w, 256<<10)
	j.enc = json.NewEncoder(j.w)
	j.enc.SetEscapeHTML(false)
	return j, nil
}

// Name returns the output's name.
func (j *JSONL) Name() string { return j.name }

// Path returns where the output goes: a file path, or "-" for standard output.
func (j *JSONL) Path() string {
	if j.final == "" {
		return "-"
	}
	return j.final
}

// Lines returns the number of lines written so far.
func (j *JSONL) Lines() int { return j.n }

// Write appends events.
func (j *JSONL) Write(_ context.Context, events []event.Event) error {
	for i := range events {
		ev := &events[i]
		var v any = ev
		if j.cfg.Format == "specs" {
			if ev.Kind != event.KindSpec {
				continue
			}
			v = ev.Spec
		}
		if err := j.enc.Encode(v); err != nil {
			return fmt.Errorf("writing %s: %w", j.Path(), err)
		}
		j.n++
	}
	return nil
}

// Close flushes and moves the file into place.
func (j *JSONL) Close(context.Context) error {
	err := j.w.Flush()
	if j.f == nil {
		return err
	}
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(j.f.Name())
		return fmt.Errorf("writing %s: %w", j.final, err)
	}
	if err := os.Rename(j.f.Name(), j.final); err != nil {
		os.Remove(j.f.Name())
		return fmt.Errorf("writing %s: %w", j.final, err)
	}
	return nil
}

// Abort drops a file output without moving it into place.
func (j *JSONL) Abort() {
	if j.f != nil {
		j.f.Close()
		os.Remove(j.f.Name())
	}
}
