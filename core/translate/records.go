package translate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/sdk/spec"
)

// recordLine is the JSON Lines form of a record: {"spec":...,"raw":...,"workspace":...}.
type recordLine struct {
	Spec      spec.AssetSpec   `json:"spec"`
	Raw       json.RawMessage  `json:"raw,omitempty"`
	Workspace record.Workspace `json:"workspace"`
}

// ReadRecords reads records in JSON Lines form; errors name file:line.
func ReadRecords(r io.Reader, file string) ([]record.Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	var out []record.Record
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var l recordLine
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, line, err)
		}
		if err := l.Spec.Validate(); err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %w", file, line, l.Spec.PowerBI, err)
		}
		out = append(out, record.Record{Spec: l.Spec, Raw: l.Raw, Workspace: l.Workspace})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return out, nil
}

// WriteRecords writes records in JSON Lines form, one per line.
func WriteRecords(w io.Writer, recs []record.Record) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, r := range recs {
		if err := enc.Encode(recordLine{Spec: r.Spec, Raw: r.Raw, Workspace: r.Workspace}); err != nil {
			return fmt.Errorf("%s: %w", r.Spec.PowerBI, err)
		}
	}
	return nil
}
