package snapshot

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Writer writes a snapshot file batch by batch, so saving a large tenant holds one batch
// in memory, not the tenant. Data sources are written once each, after the workspaces.
type Writer struct {
	w     *bufio.Writer
	n     int
	seen  map[string]bool
	ds    []DataSource
	err   error
	wrote bool
}

// NewWriter starts a snapshot file on w.
func NewWriter(w io.Writer, source string, takenAt time.Time) *Writer {
	sw := &Writer{w: bufio.NewWriterSize(w, 1<<20), seen: map[string]bool{}}
	head, _ := json.Marshal(struct {
		Version int       `json:"version"`
		Source  string    `json:"source,omitempty"`
		TakenAt time.Time `json:"takenAt,omitzero"`
	}{Version, source, takenAt.UTC()})
	sw.write(head[:len(head)-1]) // leave the object open
	sw.write([]byte(",\n\"workspaces\": ["))
	return sw
}

func (sw *Writer) write(b []byte) {
	if sw.err == nil {
		_, sw.err = sw.w.Write(b)
	}
}

// Add appends a batch's workspaces and remembers its data sources.
func (sw *Writer) Add(s *Snapshot) error {
	for i := range s.Workspaces {
		b, err := json.Marshal(&s.Workspaces[i])
		if err != nil {
			return fmt.Errorf("snapshot: workspace %q: %w", s.Workspaces[i].Name, err)
		}
		if sw.n > 0 {
			sw.write([]byte(","))
		}
		sw.write([]byte("\n"))
		sw.write(b)
		sw.n++
	}
	for _, d := range s.DataSources {
		if !sw.seen[d.ID] {
			sw.seen[d.ID] = true
			sw.ds = append(sw.ds, d)
		}
	}
	return sw.err
}

// Workspaces returns the number of workspaces written so far.
func (sw *Writer) Workspaces() int { return sw.n }

// Close writes the data sources and ends the document.
func (sw *Writer) Close() error {
	if sw.wrote {
		return sw.err
	}
	sw.wrote = true
	sw.write([]byte("\n],\n\"dataSources\": ["))
	for i := range sw.ds {
		b, err := json.Marshal(&sw.ds[i])
		if err != nil {
			return fmt.Errorf("snapshot: data source %s: %w", sw.ds[i].ID, err)
		}
		if i > 0 {
			sw.write([]byte(","))
		}
		sw.write([]byte("\n"))
		sw.write(b)
	}
	sw.write([]byte("\n]}\n"))
	if sw.err == nil {
		sw.err = sw.w.Flush()
	}
	return sw.err
}
