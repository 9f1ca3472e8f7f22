// Package rawblob is the encoding of the state store's raw snapshots (core/state, table
// raw_workspaces): one workspace's raw snapshot per blob, compressed.
package rawblob

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/pbisync/pbisync/core/snapshot"
)

// A raw blob is one workspace's raw snapshot as the raw store keeps it: the 4 bytes
// "pbr2", the CRC-32C of the payload (4 bytes, big-endian), then the payload as an S2
// block (github.com/klauspost/compress/s2, chosen for speed: the full sync writes every
// workspace it reads). The payload is a uvarint length and the snapshot file format's
// JSON, compact, of a snapshot of that one workspace and the data sources it references,
// with the items' raw API objects and the tables' columns left out; then those raw
// objects, each a uvarint length and the bytes, in the order rawFields walks them; then
// the columns of every table of every model, in order (appendColumns). Carrying them
// outside the JSON spares the encoder re-validating the raw objects (a model's raw object
// holds its whole schema) and reflecting over a million columns, which were most of the
// cost of encoding.
var rawMagic = []byte("pbr2")

// A workspace read from a scan result that nothing changed since (its Raw is set, and so
// is every data source's it goes with) is kept as that scan result held it instead: the
// 4 bytes "pbr3", the CRC-32C, then an S2 block of: a uvarint length and the snapshot's
// source, a uvarint length and its time (time.Time.MarshalBinary), then a scan result
// document of that one workspace's object and its data sources' objects, as the service
// sent them. Decoding reads the document as the scan result was read. It is about two
// thirds of the size of the pbr2 form, and far cheaper to make: nothing is encoded, and
// there is two thirds as much to compress (the pbr2 payload carries the columns twice).
var scanMagic = []byte("pbr3")

// maxRawBlob bounds the decoded size of a raw blob, and maxRawRatio its ratio to the
// stored size (a raw snapshot compresses about 8:1; one above the bound is refused, and
// its workspace scanned again), so a damaged length cannot ask for
// more memory than the blob could hold.
const (
	maxRawBlob  = 1 << 30
	maxRawRatio = 200
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// rawFields calls fn with every raw API object of a workspace, in a fixed order: its
// semantic models', reports', dashboards', dataflows' and Fabric items', then those of
// the data sources.
func rawFields(w *snapshot.Workspace, ds []snapshot.DataSource, fn func(*json.RawMessage)) {
	for i := range w.SemanticModels {
		fn(&w.SemanticModels[i].Raw)
	}
	for i := range w.Reports {
		fn(&w.Reports[i].Raw)
	}
	for i := range w.Dashboards {
		fn(&w.Dashboards[i].Raw)
	}
	for i := range w.Dataflows {
		fn(&w.Dataflows[i].Raw)
	}
	for i := range w.FabricItems {
		fn(&w.FabricItems[i].Raw)
	}
	for i := range ds {
		fn(&ds[i].Raw)
	}
}

// withoutRaw returns copies of the workspace and data sources whose items have no raw
// object (the items' other slices are shared, not copied), and the raw objects.
func withoutRaw(w *snapshot.Workspace, ds []snapshot.DataSource) (snapshot.Workspace, []snapshot.DataSource, []json.RawMessage) {
	c := *w
	c.SemanticModels = slices.Clone(w.SemanticModels)
	c.Reports = slices.Clone(w.Reports)
	c.Dashboards = slices.Clone(w.Dashboards)
	c.Dataflows = slices.Clone(w.Dataflows)
	c.FabricItems = slices.Clone(w.FabricItems)
	cds := slices.Clone(ds)
	var raws []json.RawMessage
	rawFields(&c, cds, func(r *json.RawMessage) {
		raws = append(raws, *r)
		*r = nil
	})
	for i := range c.SemanticModels {
		m := &c.SemanticModels[i]
		m.Tables = slices.Clone(m.Tables)
		for j := range m.Tables {
			m.Tables[j].Columns = nil
		}
	}
	return c, cds, raws
}

// appendColumns writes the columns of every table of w's models: per table a uvarint
// (0 for no list, else 1 + the count), then per column its name, data type, column type,
// expression and format string (each a uvarint length and the bytes) and a byte: 1 if
// hidden. TestColumnFields fails when snapshot.Column gains a field this does not carry.
func appendColumns(b []byte, w *snapshot.Workspace) []byte {
	for i := range w.SemanticModels {
		for _, t := range w.SemanticModels[i].Tables {
			if t.Columns == nil {
				b = append(b, 0)
				continue
			}
			b = binary.AppendUvarint(b, uint64(len(t.Columns))+1)
			for _, c := range t.Columns {
				for _, v := range [...]string{c.Name, c.DataType, c.ColumnType, c.Expression, c.FormatString} {
					b = binary.AppendUvarint(b, uint64(len(v)))
					b = append(b, v...)
				}
				if c.IsHidden {
					b = append(b, 1)
				} else {
					b = append(b, 0)
				}
			}
		}
	}
	return b
}

// payloadReader reads a payload's length-prefixed parts.
type payloadReader struct{ b []byte }

var errTruncated = errors.New("raw workspace blob: truncated")

func (r *payloadReader) uvarint() (uint64, error) {
	v, k := binary.Uvarint(r.b)
	if k <= 0 {
		return 0, errTruncated
	}
	r.b = r.b[k:]
	return v, nil
}

func (r *payloadReader) bytes() ([]byte, error) {
	l, err := r.uvarint()
	if err != nil || l > uint64(len(r.b)) {
		return nil, errTruncated
	}
	out := r.b[:l:l]
	r.b = r.b[l:]
	return out, nil
}

// readColumns reads back what appendColumns wrote, into w's tables.
func (r *payloadReader) readColumns(w *snapshot.Workspace) error {
	for i := range w.SemanticModels {
		tables := w.SemanticModels[i].Tables
		for j := range tables {
			n, err := r.uvarint()
			if err != nil {
				return err
			}
			if n == 0 {
				continue
			}
			n--
			if n > uint64(len(r.b))/6 { // a column takes at least 6 bytes
				return errTruncated
			}
			cols := make([]snapshot.Column, n)
			for k := range cols {
				c := &cols[k]
				for _, dst := range [...]*string{&c.Name, &c.DataType, &c.ColumnType, &c.Expression, &c.FormatString} {
					v, err := r.bytes()
					if err != nil {
						return err
					}
					*dst = string(v)
				}
				if len(r.b) == 0 || r.b[0] > 1 {
					return errors.New("raw workspace blob: a column's hidden flag is not 0 or 1")
				}
				c.IsHidden = r.b[0] == 1
				r.b = r.b[1:]
			}
			tables[j].Columns = cols
		}
	}
	return nil
}

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
	var js bytes.Buffer
	var payload, scratch []byte
	for i := range s.Workspaces {
		w := &s.Workspaces[i]
		var ds []snapshot.DataSource
		taken := map[int]bool{}
		for id := range w.UsedDataSources() {
			if k, ok := byID[id]; ok && !taken[k] {
				taken[k] = true
				ds = append(ds, s.DataSources[k])
				used[k] = true
			}
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
		if doc := scanDocument(w, one.DataSources); doc != nil {
			payload = binary.AppendUvarint(payload[:0], uint64(len(s.Source)))
			payload = append(payload, s.Source...)
			at, err := s.TakenAt.MarshalBinary()
			if err != nil {
				return nil, fmt.Errorf("workspace %q (%s): its snapshot's time: %w", w.Name, w.ID, err)
			}
			payload = binary.AppendUvarint(payload, uint64(len(at)))
			payload = append(payload, at...)
			payload = appendScanDocument(payload, w, one.DataSources)
			out[i], scratch = pack(scanMagic, payload, scratch)
			continue
		}
		bare, bareDS, raws := withoutRaw(w, one.DataSources)
		one.Workspaces, one.DataSources = []snapshot.Workspace{bare}, bareDS
		js.Reset()
		enc := json.NewEncoder(&js)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&one); err != nil {
			return nil, fmt.Errorf("workspace %q (%s): encoding its raw snapshot: %w", w.Name, w.ID, err)
		}
		payload = binary.AppendUvarint(payload[:0], uint64(js.Len()))
		payload = append(payload, js.Bytes()...)
		for _, r := range raws {
			payload = binary.AppendUvarint(payload, uint64(len(r)))
			payload = append(payload, r...)
		}
		payload = appendColumns(payload, w)
		out[i], scratch = pack(rawMagic, payload, scratch)
	}
	return out, nil
}

// pack returns the blob of a payload: the magic, the payload's CRC-32C and its S2 block.
// It is compressed into scratch (returned, grown if it had to be), then copied to a blob
// of its size: the batch's blobs are held until written, and the worst-case capacity is
// ten times that.
func pack(magic, payload, scratch []byte) (blob, _ []byte) {
	if n := s2.MaxEncodedLen(len(payload)); cap(scratch) < n {
		scratch = make([]byte, n)
	}
	packed := s2.Encode(scratch[:cap(scratch)], payload)
	head := len(magic) + 4
	blob = make([]byte, head+len(packed))
	copy(blob, magic)
	binary.BigEndian.PutUint32(blob[len(magic):], crc32.Checksum(payload, castagnoli))
	copy(blob[head:], packed)
	return blob, scratch
}

// scanDocument reports whether a workspace and its data sources can be kept as the scan
// result held them: the workspace's Raw is set and so is every data source's. It returns
// nil if not.
func scanDocument(w *snapshot.Workspace, ds []snapshot.DataSource) json.RawMessage {
	if len(w.Raw) == 0 {
		return nil
	}
	for i := range ds {
		if len(ds[i].Raw) == 0 {
			return nil
		}
	}
	return w.Raw
}

// appendScanDocument appends the scan result document of one workspace and its data
// sources.
func appendScanDocument(b []byte, w *snapshot.Workspace, ds []snapshot.DataSource) []byte {
	b = append(b, `{"workspaces":[`...)
	b = append(b, w.Raw...)
	b = append(b, `],"datasourceInstances":[`...)
	for i := range ds {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, ds[i].Raw...)
	}
	return append(b, "]}"...)
}

// Decode reads a raw blob back into a snapshot. A blob that is not one, is damaged or
// holds anything but one workspace is an error.
func Decode(blob []byte) (*snapshot.Snapshot, error) {
	head := len(rawMagic) + 4
	scan := bytes.HasPrefix(blob, scanMagic)
	if len(blob) < head || !(scan || bytes.HasPrefix(blob, rawMagic)) {
		return nil, errors.New("not a raw workspace blob (no pbr2 or pbr3 header)")
	}
	body := blob[head:]
	n, err := s2.DecodedLen(body)
	if err != nil {
		return nil, fmt.Errorf("raw workspace blob: %w", err)
	}
	if n > maxRawBlob || n > maxRawRatio*len(body) {
		return nil, fmt.Errorf("raw workspace blob: says it holds %d bytes, more than its %d stored bytes can", n, len(body))
	}
	payload, err := s2.Decode(nil, body)
	if err != nil {
		return nil, fmt.Errorf("raw workspace blob: %w", err)
	}
	if crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(blob[len(rawMagic):]) {
		return nil, errors.New("raw workspace blob: damaged (checksum mismatch)")
	}
	pr := &payloadReader{b: payload}
	if scan {
		return pr.scanSnapshot()
	}
	js, err := pr.bytes()
	if err != nil {
		return nil, err
	}
	var s snapshot.Snapshot
	if err := json.Unmarshal(js, &s); err != nil {
		return nil, fmt.Errorf("raw workspace blob: %w", err)
	}
	switch {
	case s.Version < 1 || s.Version > snapshot.Version:
		return nil, fmt.Errorf("raw workspace blob: snapshot format version %d (want 1..%d)", s.Version, snapshot.Version)
	case len(s.Workspaces) != 1 || strings.TrimSpace(s.Workspaces[0].ID) == "":
		return nil, fmt.Errorf("raw workspace blob: holds %d workspaces, want one with an id", len(s.Workspaces))
	}
	rawFields(&s.Workspaces[0], s.DataSources, func(r *json.RawMessage) {
		if err != nil {
			return
		}
		var b []byte
		if b, err = pr.bytes(); err == nil && len(b) > 0 {
			if !json.Valid(b) {
				err = errors.New("raw workspace blob: an item's raw object is not JSON")
				return
			}
			*r = b
		}
	})
	if err == nil {
		err = pr.readColumns(&s.Workspaces[0])
	}
	if err != nil {
		return nil, err
	}
	if len(pr.b) != 0 {
		return nil, fmt.Errorf("raw workspace blob: %d bytes after the last column", len(pr.b))
	}
	return &s, nil
}

// scanSnapshot reads the rest of a pbr3 payload: the snapshot's source and time, then
// the scan result document, read as a scan result is. The problems of its items were
// reported when it was scanned: what was read of them then is read again.
func (r *payloadReader) scanSnapshot() (*snapshot.Snapshot, error) {
	source, err := r.bytes()
	if err != nil {
		return nil, err
	}
	at, err := r.bytes()
	if err != nil {
		return nil, err
	}
	var takenAt time.Time
	if err := takenAt.UnmarshalBinary(at); err != nil {
		return nil, fmt.Errorf("raw workspace blob: its time: %w", err)
	}
	s, err := snapshot.DecodeScanResult(bytes.NewReader(r.b))
	if s == nil {
		return nil, fmt.Errorf("raw workspace blob: %w", err)
	}
	if len(s.Workspaces) != 1 || strings.TrimSpace(s.Workspaces[0].ID) == "" {
		return nil, fmt.Errorf("raw workspace blob: holds %d workspaces, want one with an id", len(s.Workspaces))
	}
	s.Source, s.TakenAt = string(source), takenAt
	return s, nil
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
