package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pbisync/pbisync/sdk/spec/jsonenc"
)

type wireWorkspace struct {
	ID                    string            `json:"id"`
	Name                  string            `json:"name"`
	Description           string            `json:"description"`
	Type                  string            `json:"type"`
	State                 string            `json:"state"`
	IsOnDedicatedCapacity bool              `json:"isOnDedicatedCapacity"`
	CapacityID            string            `json:"capacityId"`
	Reports               []json.RawMessage `json:"reports"`
	Dashboards            []json.RawMessage `json:"dashboards"`
	Datasets              []json.RawMessage `json:"datasets"`
	Dataflows             []json.RawMessage `json:"dataflows"`
	wireFabricItems
	// read holds, beside each of Datasets, the model the fast reader read from it
	// (nil where it left the JSON to encoding/json).
	read []*wireDataset
}

type wireScanResult struct {
	Workspaces          []wireWorkspace   `json:"workspaces"`
	DatasourceInstances []json.RawMessage `json:"datasourceInstances"`
	// Misconfigured instances are still data sources the items use.
	MisconfiguredDatasourceInstances []json.RawMessage `json:"misconfiguredDatasourceInstances"`
}

// DecodeScanResult decodes a raw admin/workspaces/scanResult document into a Snapshot.
// Data source instances join to models and dataflows through their datasourceUsages.
// When single items are malformed it returns the snapshot without them and an error
// naming each (workspace, item, offset inside the item); a document that is not a
// scanResult at all gives a nil snapshot.
//
// A well-formed document (nearly every one) is read whole, checked, and decoded by the
// fast readers, the items' Raw being slices of it; any other goes through
// encoding/json's stream decoder, which gives the same result and the errors.
func DecodeScanResult(r io.Reader) (*Snapshot, error) {
	doc, rerr := readDocument(r)
	if rerr == nil && !encodingJSONOnly && jsonenc.Valid(doc) {
		if s, err, ok := decodeScanResultFast(doc); ok {
			return s, err
		}
	}
	var src io.Reader = bytes.NewReader(doc)
	if rerr != nil {
		src = io.MultiReader(src, errReader{rerr})
	}
	return decodeScanResultStream(src)
}

// SizeHinter is a reader that can tell about how long its document is: the length
// the server declared, or the size of the documents read before it. readDocument
// allocates that much (and a little) at once instead of reading into chunks and copying
// them: a batch's chunks were as much garbage again as its document.
type SizeHinter interface{ SizeHint() int }

// readDocument reads r whole into a slice of about its exact size: a scan batch's
// document is tens of megabytes, and the items' Raw keep it while the batch is worked on,
// so it holds little spare capacity, and reading it leaves at most one copy of garbage,
// not io.ReadAll's series of doubled buffers.
func readDocument(r io.Reader) ([]byte, error) {
	if l, ok := r.(interface{ Len() int }); ok {
		return readSized(r, l.Len())
	}
	if h, ok := r.(SizeHinter); ok && h.SizeHint() > 0 {
		// A hint is a guess: room for a sixteenth more, and a document that
		// outgrows it goes on in chunks. A hint past maxHint (a length declared
		// wrongly, say) is not allocated up front.
		n := min(h.SizeHint(), maxHint)
		return readSized(r, n+n/16+4096)
	}
	return readChunks(r, nil)
}

// maxHint bounds the buffer a size hint allocates before anything is read.
const maxHint = 256 << 20

// readSized reads r into a buffer of n bytes, and what does not fit after it.
func readSized(r io.Reader, n int) ([]byte, error) {
	doc := make([]byte, n)
	got, err := io.ReadFull(r, doc)
	doc = doc[:got]
	switch {
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		return doc, nil
	case err != nil:
		return doc, err
	}
	return readChunks(r, doc) // the reader had more than it said
}

// readChunks reads the rest of r after head in chunks of growing size and joins them
// once, at their total size.
func readChunks(r io.Reader, head []byte) ([]byte, error) {
	var chunks [][]byte
	total := len(head)
	if len(head) > 0 {
		chunks = append(chunks, head)
	}
	size := 64 << 10
	var err error
	for err == nil {
		c := make([]byte, size)
		var n int
		n, err = io.ReadFull(r, c)
		chunks, total = append(chunks, c[:n]), total+n
		size = min(size*2, 4<<20)
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	if head != nil && total == len(head) {
		return head, err // it was all there
	}
	doc := make([]byte, 0, total)
	for _, c := range chunks {
		doc = append(doc, c...)
	}
	return doc, err
}

// encodingJSONOnly turns the fast readers off, for the tests that hold them to
// encoding/json.
var encodingJSONOnly bool

// errReader gives the stream decoder the read error where the body broke off.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// scanResultBuilder gathers a scanResult's workspaces and the errors of their items.
type scanResultBuilder struct {
	s    *Snapshot
	errs []error
}

// workspace adds one element of workspaces, whose syntax has been checked.
func (b *scanResultBuilder) workspace(raw json.RawMessage) error {
	ww, err := readWorkspace(raw)
	if err != nil {
		// A field of the wrong type (dashboards not a list, say) leaves the rest of
		// the workspace decoded: keep what was read, name the workspace, and go on
		// with the batch.
		if !wrongType(err) {
			return err
		}
		werr := fmt.Errorf("workspace %s (%s), workspaces[%d]: %w", quoteName(ww.Name), ww.ID, len(b.s.Workspaces), describeJSONError(err))
		if ww.ID == "" {
			// Nothing to name it by: left out, and which workspace it was is unknown
			// (a plain error, so no removal is inferred at all).
			b.errs = append(b.errs, werr)
			return nil
		}
		b.errs = append(b.errs, Incomplete(ww.ID, werr))
	}
	ws, werrs := decodeWorkspace(ww)
	ws.Raw = raw
	b.s.Workspaces = append(b.s.Workspaces, ws)
	b.errs = append(b.errs, werrs...)
	return nil
}

// finish joins the data source instances and the errors.
func (b *scanResultBuilder) finish(w *wireScanResult) (*Snapshot, error) {
	ds, derrs := fromScanResult(w)
	b.s.DataSources = ds.DataSources
	b.errs = append(b.errs, derrs)
	return b.s, errors.Join(b.errs...)
}

func newScanResultBuilder() *scanResultBuilder {
	return &scanResultBuilder{s: &Snapshot{Version: Version, Source: "scanResult", Workspaces: []Workspace{}, FromRaw: true}}
}

// decodeScanResultFast decodes a document jsonenc.Valid accepted; ok is false for what it
// leaves to the stream decoder (a top-level shape it does not read as that would).
func decodeScanResultFast(doc []byte) (s *Snapshot, err error, ok bool) {
	sc := scanner{b: doc}
	if sc.peek() != '{' {
		return nil, nil, false
	}
	b := newScanResultBuilder()
	var w wireScanResult
	var seen fields
	ok = sc.object(func(key string) bool {
		switch key {
		case "workspaces":
			_, ok := sc.array(func() bool {
				sc.space()
				return b.workspace(sc.raw()) == nil
			})
			return ok
		case "datasourceinstances":
			return seen.first(0) && sc.raws(&w.DatasourceInstances)
		case "misconfigureddatasourceinstances":
			return seen.first(1) && sc.raws(&w.MisconfiguredDatasourceInstances)
		}
		sc.skip()
		return true
	})
	if !ok {
		return nil, nil, false
	}
	s, err = b.finish(&w)
	return s, err, true
}

// decodeScanResultStream is DecodeScanResult with encoding/json's stream decoder, one
// workspace at a time.
func decodeScanResultStream(r io.Reader) (*Snapshot, error) {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("scanResult: %w", describeJSONError(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("scanResult: want a JSON object, got %v", tok)
	}
	b := newScanResultBuilder()
	var w wireScanResult
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("scanResult: %w", describeJSONError(err))
		}
		key, _ := tok.(string)
		// Field names match without regard to case, as encoding/json matches them: the
		// swagger capitalises what live traffic camel-cases.
		switch strings.ToLower(key) {
		case "workspaces":
			var start int64
			if err := eachElement(dec, func() error {
				start = dec.InputOffset()
				var raw json.RawMessage // a new one each time: the items' Raw are slices of it
				if err := dec.Decode(&raw); err != nil {
					return err
				}
				return b.workspace(raw)
			}); err != nil {
				// A streaming decoder's offsets count from its own reads: name the
				// element and where it starts instead.
				return nil, fmt.Errorf("scanResult: workspaces[%d], which starts at offset %d: %w", len(b.s.Workspaces), start, streamError(err))
			}
		case "datasourceinstances":
			err = dec.Decode(&w.DatasourceInstances)
		case "misconfigureddatasourceinstances":
			err = dec.Decode(&w.MisconfiguredDatasourceInstances)
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil && wrongType(err) {
			b.errs = append(b.errs, Incomplete("", fmt.Errorf("scanResult: %s: %w", key, describeJSONError(err))))
			err = nil
		}
		if err != nil {
			return nil, fmt.Errorf("scanResult: %s: %w", key, describeJSONError(err))
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("scanResult: %w", describeJSONError(err))
	}
	return b.finish(&w)
}

// readWorkspace decodes one element of workspaces, whose syntax the stream decoder
// checked as it read it: the fast reader takes it straight into the wire structs and
// leaves to encoding/json what it does not read exactly as encoding/json would.
func readWorkspace(raw json.RawMessage) (wireWorkspace, error) {
	var ww wireWorkspace
	if !encodingJSONOnly && fastWorkspace(raw, &ww) {
		return ww, nil
	}
	ww = wireWorkspace{}
	err := json.Unmarshal(raw, &ww)
	return ww, err
}

// streamError keeps a syntax error's message without its stream-relative offset.
func streamError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return errors.New(se.Error())
	}
	return describeJSONError(err)
}

// eachElement calls fn for every element of the JSON array dec is at; fn decodes it. A
// null counts as an empty array.
func eachElement(dec *json.Decoder, fn func() error) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("want an array, got %v", tok)
	}
	for dec.More() {
		if err := fn(); err != nil {
			return err
		}
	}
	_, err = dec.Token()
	return err
}

func fromScanResult(w *wireScanResult) (*Snapshot, error) {
	s := &Snapshot{Version: Version, Source: "scanResult", Workspaces: make([]Workspace, 0, len(w.Workspaces)), FromRaw: true}
	var errs []error
	for _, ww := range w.Workspaces {
		ws, werrs := decodeWorkspace(ww)
		s.Workspaces = append(s.Workspaces, ws)
		errs = append(errs, werrs...)
	}
	s.DataSources = make([]DataSource, 0, len(w.DatasourceInstances))
	seen := map[string]bool{}
	for _, list := range [][]json.RawMessage{w.DatasourceInstances, w.MisconfiguredDatasourceInstances} {
		for i, raw := range list {
			ds, err := DecodeDataSource(raw)
			if err != nil {
				errs = append(errs, Incomplete("", fmt.Errorf("datasourceInstances[%d]%s: %w", i, itemID(raw), describeJSONError(err))))
				continue
			}
			if seen[ds.ID] {
				continue
			}
			seen[ds.ID] = true
			s.DataSources = append(s.DataSources, ds)
		}
	}
	return s, errors.Join(errs...)
}

func decodeWorkspace(ww wireWorkspace) (Workspace, []error) {
	ws := Workspace{
		ID: ww.ID, Name: ww.Name, Description: ww.Description, Type: canonical(ww.Type, workspaceTypes), State: canonical(ww.State, workspaceStates),
		IsOnDedicatedCapacity: ww.IsOnDedicatedCapacity, CapacityID: ww.CapacityID,
		SemanticModels: make([]SemanticModel, 0, len(ww.Datasets)),
		Reports:        make([]Report, 0, len(ww.Reports)),
		Dashboards:     make([]Dashboard, 0, len(ww.Dashboards)),
		Dataflows:      make([]Dataflow, 0, len(ww.Dataflows)),
	}
	var errs []error
	// fail records a malformed item; keep says whether what was decoded of it is kept
	// (a field of the wrong type leaves the others read).
	fail := func(kind string, i int, raw json.RawMessage, id string, err error) (keep bool) {
		if err == nil {
			return true
		}
		errs = append(errs, Incomplete(ww.ID, fmt.Errorf("workspace %s (%s): %s[%d]%s: %w",
			quoteName(ww.Name), ww.ID, kind, i, itemID(raw), describeJSONError(err))))
		return id != "" && wrongType(err)
	}
	for i, raw := range ww.Datasets {
		var pre *wireDataset
		if i < len(ww.read) {
			pre = ww.read[i]
		}
		m, err := decodeDataset(raw, pre)
		if fail("datasets", i, raw, m.ID, err) {
			ws.SemanticModels = append(ws.SemanticModels, m)
		}
	}
	for i, raw := range ww.Reports {
		r, err := decodeReport(raw)
		if fail("reports", i, raw, r.ID, err) {
			ws.Reports = append(ws.Reports, r)
		}
	}
	for i, raw := range ww.Dashboards {
		d, err := decodeDashboard(raw)
		if fail("dashboards", i, raw, d.ID, err) {
			ws.Dashboards = append(ws.Dashboards, d)
		}
	}
	for i, raw := range ww.Dataflows {
		d, err := decodeDataflow(raw)
		if fail("dataflows", i, raw, d.ID, err) {
			ws.Dataflows = append(ws.Dataflows, d)
		}
	}
	items, marts, ferrs := decodeFabricItems(ww.wireFabricItems, ww.Name, ww.ID)
	ws.FabricItems = items
	ws.Dataflows = append(ws.Dataflows, marts...)
	errs = append(errs, ferrs...)
	return ws, errs
}

func quoteName(s string) string { return fmt.Sprintf("%q", s) }

// itemID names an item by whatever id or name can still be read from its JSON.
func itemID(raw json.RawMessage) string {
	var probe struct {
		ID          string `json:"id"`
		ObjectID    string `json:"objectId"`
		Name        string `json:"name"`
		DisplayName string `json:"displayName"`
	}
	_ = json.Unmarshal(raw, &probe) // best effort: a partly decoded probe still helps
	name := probe.Name
	if name == "" {
		name = probe.DisplayName
	}
	id := probe.ID
	if id == "" {
		id = probe.ObjectID
	}
	switch {
	case name != "" && id != "":
		return fmt.Sprintf(" %q (%s)", name, id)
	case id != "":
		return " " + id
	case name != "":
		return fmt.Sprintf(" %q", name)
	}
	return ""
}

// wrongType reports whether a decode failed only on a value of the wrong type, which
// encoding/json skips while it decodes the rest.
func wrongType(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te)
}

// describeJSONError adds the offset encoding/json knows to its error.
func describeJSONError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("at offset %d: %w", se.Offset, err)
	case errors.As(err, &te):
		return fmt.Errorf("at offset %d: %w", te.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("truncated JSON: %w", err)
	}
	return err
}
