package snapshot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// Load reads a snapshot file: pbisync's native format (it has "version") or a raw
// scanResult document (it has "workspaces" and no "version").
func Load(path string) (*Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := Read(f)
	if err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Read reads a snapshot in either format Load accepts.
func Read(r io.Reader) (*Snapshot, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("not a snapshot: %w", describeJSONError(err))
	}
	rawVersion, hasVersion := probe["version"]
	if !hasVersion {
		if _, ok := probe["workspaces"]; !ok {
			return nil, fmt.Errorf("not a snapshot: want pbisync's snapshot format (with \"version\") or a scanResult document (with \"workspaces\")")
		}
		s, err := DecodeScanResult(bytes.NewReader(data))
		return s, err
	}
	var v int
	if err := json.Unmarshal(rawVersion, &v); err != nil {
		return nil, fmt.Errorf("snapshot \"version\" must be a whole number, got %s", rawVersion)
	}
	switch {
	case v > Version:
		return nil, fmt.Errorf("snapshot format version %d is newer than this pbisync reads (up to %d): upgrade pbisync or take the snapshot again with this one", v, Version)
	case v < 1:
		return nil, fmt.Errorf("snapshot format version %d is not valid (want 1..%d)", v, Version)
	}
	var s Snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("snapshot: %w", describeJSONError(err))
	}
	normalize(&s)
	return &s, nil
}

// normalize gives nil lists their empty form so decoded and built snapshots compare equal.
func normalize(s *Snapshot) {
	if s.Workspaces == nil {
		s.Workspaces = []Workspace{}
	}
	if s.DataSources == nil {
		s.DataSources = []DataSource{}
	}
	for i := range s.Workspaces {
		w := &s.Workspaces[i]
		if w.SemanticModels == nil {
			w.SemanticModels = []SemanticModel{}
		}
		if w.Reports == nil {
			w.Reports = []Report{}
		}
		if w.Dashboards == nil {
			w.Dashboards = []Dashboard{}
		}
		if w.Dataflows == nil {
			w.Dataflows = []Dataflow{}
		}
		for j := range w.SemanticModels {
			m := &w.SemanticModels[j]
			if m.Tables == nil {
				m.Tables = []Table{}
			}
			for k := range m.Tables {
				if m.Tables[k].Columns == nil {
					m.Tables[k].Columns = []Column{}
				}
			}
		}
		for j := range w.Dashboards {
			if w.Dashboards[j].Tiles == nil {
				w.Dashboards[j].Tiles = []Tile{}
			}
		}
	}
}

// Save writes s in pbisync's native format: indented JSON, the same bytes for the same
// snapshot. The model holds no credentials, so neither does the file.
func Save(w io.Writer, s *Snapshot) error {
	c := *s
	c.Version = Version
	normalize(&c)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(&c)
}
