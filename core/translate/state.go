package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/sdk/spec"
)

// outcome is what a translator decided for one asset.
type outcome uint8

const (
	outKeep outcome = iota
	outDrop
	outFail
)

// result is the state of one asset of a batch inside a guest call.
type result struct {
	outcome outcome
	spec    *spec.AssetSpec // the edited copy; nil while untouched
	err     error
	written int    // bytes of edits, for max_output
	owned   uint32 // spec fields copied from the input (bit field-fieldSpec), see edit
	done    bool   // the guest moved past it (next returned after it)
}

// batch is what the host functions act on during one guest call: the assets, the
// cursor and each asset's result. It holds no wazero state, so it can be fuzzed alone.
type batch struct {
	recs      []record.Record
	res       []result
	out       []record.Record // where edited specs live, parallel to recs; nil: on the heap
	cur       int             // index of the current asset; -1 before the first next
	config    []byte
	maxOutput int
	// init is set while pbisync_init runs: only CONFIG is readable, fail reports initErr.
	init    bool
	initErr error

	rawDoc    any // parsed RAW of the current asset, when looked up
	rawParsed bool
	cfgDoc    any
	cfgParsed bool

	budget                 // per-asset counters and the stage's ceiling (budget.go)
	sb       *sandbox      // the instance's clock and random, reset per asset; nil in tests
	progress atomic.Uint64 // bumped at every next(), watched for asset_timeout
}

func newBatch(recs []record.Record, config []byte, maxOutput int) *batch {
	return &batch{recs: recs, res: make([]result, len(recs)), cur: -1, config: config, maxOutput: maxOutput}
}

func (b *batch) current() bool { return !b.init && b.cur >= 0 && b.cur < len(b.recs) }

// Type codes next returns, so most translators need no call to learn the type.
const (
	codeOther         = 1
	codeSemanticModel = 2
	codeDataSource    = 3
	codeReport        = 4
	codeDashboard     = 5
)

func typeCode(t spec.ContentType) int32 {
	switch t {
	case spec.SemanticModel:
		return codeSemanticModel
	case spec.DataSource:
		return codeDataSource
	case spec.Report:
		return codeReport
	case spec.Dashboard:
		return codeDashboard
	}
	return codeOther
}

// next finishes the current asset and moves to the following one. It returns the new
// asset's type code, or 0 at the end.
func (b *batch) next() int32 {
	if b.init {
		return 0
	}
	if b.current() {
		b.finish(b.cur)
	}
	if b.cur < len(b.recs) {
		b.cur++
	}
	b.progress.Add(1)
	b.rawDoc, b.rawParsed = nil, false
	b.startPhase()
	if b.cur < len(b.recs) {
		if b.sb != nil {
			b.sb.reset(&b.recs[b.cur], "")
		}
		return typeCode(b.recs[b.cur].Spec.PowerBI.Type)
	}
	if b.sb != nil {
		b.sb.reset(nil, "after")
	}
	return 0
}

// finish checks an asset the guest is done with.
func (b *batch) finish(i int) {
	r := &b.res[i]
	r.done = true
	if r.outcome == outKeep && r.spec != nil {
		if err := validateEdited(r.spec, r.owned); err != nil {
			r.outcome, r.err = outFail, fmt.Errorf("returned an invalid spec: %w", err)
		}
	}
}

// validateEdited checks the fields a guest edited, as spec.Validate does; the others
// are the input's, and map iteration is the costliest part of a full check.
func validateEdited(s *spec.AssetSpec, owned uint32) error {
	has := func(f int32) bool { return owned&(1<<(f-fieldSpec)) != 0 }
	if owned == ^uint32(0) {
		return s.Validate()
	}
	if has(fieldKey) {
		if err := s.Key.Validate(); err != nil {
			return err
		}
	}
	if has(fieldDeps) {
		for i, d := range s.Deps {
			if err := d.Validate(); err != nil {
				return fmt.Errorf("dep %d: %w", i, err)
			}
		}
	}
	if has(fieldMetadata) || has(fieldTags) {
		return s.Validate()
	}
	return nil
}

// spec returns the asset's spec as edited so far, for reading.
func (b *batch) spec() *spec.AssetSpec {
	if r := &b.res[b.cur]; r.spec != nil {
		return r.spec
	}
	return &b.recs[b.cur].Spec
}

// edit returns the asset's own spec for changing field. The spec is copied from the
// input on the first edit, shallowly, and each list or map field on its first edit, so
// the input is never modified and untouched fields are shared, not copied. replace says
// the caller assigns the field anew, so its old value need not be copied.
func (b *batch) edit(field int32, replace bool) *spec.AssetSpec {
	r := &b.res[b.cur]
	if r.spec == nil {
		if b.out != nil { // in the output record's slot: no allocation, no copy later
			b.out[b.cur].Spec = b.recs[b.cur].Spec
			r.spec = &b.out[b.cur].Spec
		} else {
			c := b.recs[b.cur].Spec
			r.spec = &c
		}
	}
	bit := uint32(1) << (field - fieldSpec)
	if r.owned&bit != 0 {
		return r.spec
	}
	r.owned |= bit
	if replace {
		return r.spec
	}
	s := r.spec
	switch field { // room for a few more items: edits of lists usually insert
	case fieldKey:
		s.Key = append(make(spec.Key, 0, len(s.Key)+2), s.Key...)
	case fieldDeps:
		s.Deps = append(make([]spec.Key, 0, len(s.Deps)+2), s.Deps...) // keys inside are never edited in place
	case fieldKinds:
		s.Kinds = append(make([]string, 0, len(s.Kinds)+2), s.Kinds...)
	case fieldOwners:
		s.Owners = append(make([]string, 0, len(s.Owners)+2), s.Owners...)
	case fieldTags:
		s.Tags = maps.Clone(s.Tags)
	case fieldMetadata:
		s.Metadata = maps.Clone(s.Metadata)
	}
	return s
}

// reject fails the current asset for a bad edit and returns the status to give the guest.
func (b *batch) reject(status int32, format string, args ...any) int32 {
	r := &b.res[b.cur]
	if r.outcome != outFail {
		r.outcome, r.err = outFail, fmt.Errorf(format, args...)
	}
	return status
}

// charge counts n bytes of edits against max_output.
func (b *batch) charge(op string, field int32, n int) bool {
	r := &b.res[b.cur]
	if b.maxOutput > 0 && r.written > b.maxOutput { // refused before: charge nothing more
		return false
	}
	n += editOverhead
	b.alloc(n)
	b.holdStage(n)
	r.written += n
	if b.maxOutput > 0 && r.written > b.maxOutput {
		b.reject(statusTooLarge, "%s(%s): edits of this asset exceed max_output (%d bytes)", op, fieldLabel(field), b.maxOutput)
		return false
	}
	return true
}

func (b *batch) drop() int32 {
	if !b.current() {
		return statusNoCurrent
	}
	if r := &b.res[b.cur]; r.outcome == outKeep {
		r.outcome = outDrop
	}
	return statusOK
}

// maxFailMessage bounds a guest's error message.
const maxFailMessage = 4 << 10

func (b *batch) fail(msg string) int32 {
	if len(msg) > maxFailMessage {
		msg = msg[:maxFailMessage] + "…"
	}
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	if msg == "" {
		msg = "translator reported an error"
	}
	if b.init {
		if b.initErr == nil {
			b.initErr = errors.New(msg)
		}
		return statusOK
	}
	if !b.current() {
		return statusNoCurrent
	}
	if r := &b.res[b.cur]; r.outcome != outFail {
		r.outcome, r.err = outFail, errors.New(msg)
	}
	return statusOK
}

// get reads a field; ok is false when it is absent or index is out of range.
func (b *batch) get(field, index int32) (string, int32) {
	if field == fieldConfig {
		return string(b.config), statusOK
	}
	if !b.current() {
		return "", statusNoCurrent
	}
	rec := &b.recs[b.cur]
	s := b.spec()
	switch field {
	case fieldType:
		return string(rec.Spec.PowerBI.Type), statusOK
	case fieldID:
		return rec.Spec.PowerBI.ID, statusOK
	case fieldName:
		return rec.Spec.PowerBI.Name, statusOK
	case fieldWorkspaceID:
		return rec.Workspace.ID, statusOK
	case fieldWorkspaceName:
		return rec.Workspace.Name, statusOK
	case fieldWorkspaceType:
		return rec.Workspace.Type, statusOK
	case fieldRaw:
		if len(rec.Raw) == 0 {
			return "{}", statusOK
		}
		return string(rec.Raw), statusOK
	case fieldInput:
		j := b.inputJSON()
		b.alloc(2 * len(j))
		return string(j), statusOK
	case fieldSpec:
		j, _ := json.Marshal(s)
		b.alloc(2 * len(j))
		return string(j), statusOK
	case fieldKey:
		return item(s.Key, index)
	case fieldKinds:
		return item(s.Kinds, index)
	case fieldOwners:
		return item(s.Owners, index)
	case fieldDeps:
		if index < 0 || int(index) >= len(s.Deps) {
			return "", statusAbsent
		}
		return strings.Join(s.Deps[index], "\x00"), statusOK
	case fieldDescription:
		return s.Description, statusOK
	case fieldGroup:
		return s.Group, statusOK
	case fieldTags:
		return item(sortedKeys(s.Tags), index)
	case fieldMetadata:
		return item(sortedKeys(s.Metadata), index)
	}
	return "", statusInvalid
}

func item(list []string, index int32) (string, int32) {
	if index < 0 || int(index) >= len(list) {
		return "", statusAbsent
	}
	return list[index], statusOK
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (b *batch) count(field int32) int32 {
	if !b.current() {
		return statusNoCurrent
	}
	s := b.spec()
	switch field {
	case fieldKey:
		return int32(len(s.Key))
	case fieldDeps:
		return int32(len(s.Deps))
	case fieldKinds:
		return int32(len(s.Kinds))
	case fieldOwners:
		return int32(len(s.Owners))
	case fieldTags:
		return int32(len(s.Tags))
	case fieldMetadata:
		return int32(len(s.Metadata))
	}
	return statusInvalid
}

// inputJSON is the whole input of the current asset, for guests that prefer JSON.
func (b *batch) inputJSON() []byte {
	rec := &b.recs[b.cur]
	raw := rec.Raw
	if len(raw) == 0 {
		raw = json.RawMessage("{}")
	}
	j, _ := json.Marshal(struct {
		Type      spec.ContentType `json:"type"`
		Raw       json.RawMessage  `json:"raw"`
		Workspace record.Workspace `json:"workspace"`
		Spec      *spec.AssetSpec  `json:"spec"`
	}{rec.Spec.PowerBI.Type, raw, rec.Workspace, b.spec()})
	return j
}

// lookup reads one value inside a JSON field, or one map entry.
func (b *batch) lookup(field int32, path string) (string, int32) {
	var doc any
	switch field {
	case fieldConfig:
		if !b.cfgParsed {
			b.cfgDoc, b.cfgParsed = parseDoc(b.config), true
		}
		doc = b.cfgDoc
	case fieldRaw, fieldInput, fieldSpec, fieldTags, fieldMetadata:
		if !b.current() {
			return "", statusNoCurrent
		}
		switch field {
		case fieldRaw:
			if !b.rawParsed {
				b.alloc(parseCost * len(b.recs[b.cur].Raw))
				b.rawDoc, b.rawParsed = parseDoc(b.recs[b.cur].Raw), true
			}
			doc = b.rawDoc
		case fieldInput:
			j := b.inputJSON()
			b.alloc(parseCost * len(j))
			doc = parseDoc(j)
		case fieldSpec:
			j, _ := json.Marshal(b.spec())
			b.alloc(parseCost * len(j))
			doc = parseDoc(j)
		case fieldTags:
			v, ok := b.spec().Tags[path]
			if !ok {
				return "", statusAbsent
			}
			return v, statusOK
		case fieldMetadata:
			m, ok := b.spec().Metadata[path]
			if !ok {
				return "", statusAbsent
			}
			j, err := json.Marshal(m)
			if err != nil {
				return "", statusInvalid
			}
			return string(j), statusOK
		}
	default:
		return "", statusInvalid
	}
	v, ok := walkPath(doc, path)
	if !ok {
		return "", statusAbsent
	}
	if s, isStr := v.(string); isStr {
		return s, statusOK
	}
	j, err := json.Marshal(v)
	if err != nil {
		return "", statusInvalid
	}
	b.alloc(2 * len(j))
	return string(j), statusOK
}

func parseDoc(b []byte) any {
	if len(b) == 0 {
		return map[string]any{}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	return v
}

// walkPath follows a dotted path: names index objects, decimal numbers index arrays.
// An empty path is the whole document.
func walkPath(doc any, path string) (any, bool) {
	if doc == nil {
		return nil, false
	}
	if path == "" {
		return doc, true
	}
	for part := range strings.SplitSeq(path, ".") {
		switch v := doc.(type) {
		case map[string]any:
			next, ok := v[part]
			if !ok {
				return nil, false
			}
			doc = next
		case []any:
			i, ok := index(part)
			if !ok || i >= len(v) {
				return nil, false
			}
			doc = v[i]
		default:
			return nil, false
		}
	}
	return doc, doc != nil
}

func index(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
