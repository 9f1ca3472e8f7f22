// Package rawblob is the encoding of the state store's raw snapshots (core/state, table
// raw_workspaces): one workspace's raw snapshot per blob, compressed.
package rawblob

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/klauspost/compress/s2"

	"github.com/pbisync/pbisync/core/snapshot"
)

// A raw blob is one workspace's raw snapshot as the raw store keeps it: the 4 bytes
// "pbr1", then an S2 block (github.com/klauspost/compress/s2) holding the snapshot file
// format's JSON, compact, of a snapshot with that one workspace and the data sources it
// references. S2 at its default level is chosen for speed: the full sync writes every
// workspace it reads.
var rawMagic = []byte("pbr1")

// maxRawBlob bounds the decoded size of a raw blob, and maxRawRatio its ratio to the
// stored size (snapshot JSON compresses about 10:1), so a damaged length cannot ask for
// more memory than the blob could hold.
const (
	maxRawBlob  = 1 << 30
	maxRawRatio = 1000
)

// Encode splits a batch into one raw blob per workspace, in the batch's
// order. Data sources no workspace of the batch references go with its last workspace.
func Encode(s *snapshot.Snapshot) ([][]byte, error) {
	if len(s.Workspaces) == 0 {
		return nil, nil
	}
	byID := make(map[string]int, len(s.DataSources))
	for i := range s.DataSources {
		byID[s.DataSources[i].ID] = i
	}
	used := make([]bool, len(s.DataSources))
	out := make([][]byte, len(s.Workspaces))
	var buf bytes.Buffer
	for i := range s.Workspaces {
		w := &s.Workspaces[i]
		var ds []snapshot.DataSource
		taken := map[int]bool{}
		add := func(ids []string) {
			for _, id := range ids {
				if k, ok := byID[id]; ok && !taken[k] {
					taken[k] = true
					ds = append(ds, s.DataSources[k])
					used[k] = true
				}
			}
		}
		for j := range w.SemanticModels {
			add(w.SemanticModels[j].DataSourceIDs)
		}
		for j := range w.Reports {
			add(w.Reports[j].DataSourceIDs)
		}
		for j := range w.Dataflows {
			add(w.Dataflows[j].DataSourceIDs)
		}
		one := snapshot.Snapshot{Version: snapshot.Version, Source: s.Source, TakenAt: s.TakenAt, Workspaces: s.Workspaces[i : i+1 : i+1], DataSources: ds}
		if i == len(s.Workspaces)-1 {
			// The data sources nobody references are kept with the last workspace (the
			// others are encoded by now).
			for k := range s.DataSources {
				if !used[k] {
					one.DataSources = append(one.DataSources, s.DataSources[k])
				}
			}
		}
		if one.DataSources == nil {
			one.DataSources = []snapshot.DataSource{}
		}
		buf.Reset()
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&one); err != nil {
			return nil, fmt.Errorf("workspace %q (%s): encoding its raw snapshot: %w", w.Name, w.ID, err)
		}
		blob := make([]byte, len(rawMagic), len(rawMagic)+s2.MaxEncodedLen(buf.Len()))
		copy(blob, rawMagic)
		enc2 := s2.Encode(blob[len(rawMagic):cap(blob)], buf.Bytes())
		out[i] = blob[:len(rawMagic)+len(enc2)]
	}
	return out, nil
}

// Decode reads a raw blob back into a snapshot. A blob that is not one,
// is damaged or holds anything but one workspace is an error.
func Decode(blob []byte) (*snapshot.Snapshot, error) {
	if !bytes.HasPrefix(blob, rawMagic) {
		return nil, errors.New("not a raw workspace blob (no pbr1 header)")
	}
	body := blob[len(rawMagic):]
	n, err := s2.DecodedLen(body)
	if err != nil {
		return nil, fmt.Errorf("raw workspace blob: %w", err)
	}
	if n > maxRawBlob || n > maxRawRatio*len(body) {
		return nil, fmt.Errorf("raw workspace blob: says it holds %d bytes, more than its %d stored bytes can", n, len(body))
	}
	data, err := s2.Decode(nil, body)
	if err != nil {
		return nil, fmt.Errorf("raw workspace blob: %w", err)
	}
	var s snapshot.Snapshot
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("raw workspace blob: %w", err)
	}
	switch {
	case s.Version < 1 || s.Version > snapshot.Version:
		return nil, fmt.Errorf("raw workspace blob: snapshot format version %d (want 1..%d)", s.Version, snapshot.Version)
	case len(s.Workspaces) != 1 || strings.TrimSpace(s.Workspaces[0].ID) == "":
		return nil, fmt.Errorf("raw workspace blob: holds %d workspaces, want one with an id", len(s.Workspaces))
	}
	return &s, nil
}

// Merge joins single-workspace snapshots into one batch, each data source once.
func Merge(parts []*snapshot.Snapshot) *snapshot.Snapshot {
	out := &snapshot.Snapshot{Version: snapshot.Version, Workspaces: make([]snapshot.Workspace, 0, len(parts)), DataSources: []snapshot.DataSource{}}
	seen := map[string]bool{}
	for _, p := range parts {
		if out.Source == "" {
			out.Source, out.TakenAt = p.Source, p.TakenAt
		}
		if p.TakenAt.Before(out.TakenAt) {
			out.TakenAt = p.TakenAt
		}
		out.Workspaces = append(out.Workspaces, p.Workspaces...)
		for _, d := range p.DataSources {
			if !seen[d.ID] {
				seen[d.ID] = true
				out.DataSources = append(out.DataSources, d)
			}
		}
	}
	return out
}
