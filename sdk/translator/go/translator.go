// Package translator is the Go kit for pbisync translators: WebAssembly modules that
// edit asset specs (sdk/ABI.md). Register a Translator in init and build the package with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o my.wasm .
//
// or name its directory as `go_package:` in the pipeline and let pbisync build it.
// Reads and edits go through the host one field at a time: nothing parses the record.
package translator

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/pbisync/pbisync/sdk/spec"
)

// Translator edits one asset at a time. Returning an error fails that asset; the
// pipeline's on_error policy decides what happens next.
type Translator interface {
	Translate(a *Asset) error
}

// Initer is implemented by translators that read their config once, at start. An error
// stops pbisync from starting, with the message.
type Initer interface {
	Init(c Config) error
}

// Func adapts a plain function to Translator.
type Func func(a *Asset) error

// Translate calls f.
func (f Func) Translate(a *Asset) error { return f(a) }

var handler Translator

// current is the type code next returned for the asset being translated.
var current int32

// typeByCode maps next's type codes 2-5 to content types (sdk/ABI.md).
var typeByCode = [...]spec.ContentType{spec.SemanticModel, spec.DataSource, spec.Report, spec.Dashboard}

// Handle registers the module's translator. Call it from an init function.
func Handle(t Translator) { handler = t }

// Field ids of ABI version 1.
const (
	fType          = 1
	fID            = 2
	fName          = 3
	fWorkspaceID   = 4
	fWorkspaceName = 5
	fWorkspaceType = 6
	fRaw           = 7
	fConfig        = 8
	fInput         = 9
	fSpec          = 16
	fKey           = 17
	fDeps          = 18
	fKinds         = 19
	fOwners        = 20
	fDescription   = 21
	fGroup         = 22
	fTags          = 23
	fMetadata      = 24
)

// buf receives values from the host. It is a package variable so the memory the host
// writes into stays reachable.
var buf = make([]byte, 1024)

// grow makes buf hold at least n bytes.
func grow(n int32) { buf = make([]byte, n+n/4) }

func get(field, index int32) (string, bool) {
	for {
		n := hostGet(field, index, &buf[0], int32(len(buf)))
		if n < 0 {
			return "", false
		}
		if int(n) <= len(buf) {
			return string(buf[:n]), true
		}
		grow(n)
	}
}

func lookup(field int32, path string) (string, bool) {
	for {
		n := hostLookup(field, path, &buf[0], int32(len(buf)))
		if n < 0 {
			return "", false
		}
		if int(n) <= len(buf) {
			return string(buf[:n]), true
		}
		grow(n)
	}
}

func list(field int32) []string {
	n := hostCount(field)
	out := make([]string, 0, max(n, 0))
	for i := range n {
		v, _ := get(field, i)
		out = append(out, v)
	}
	return out
}

// Log writes a line to pbisync's log, tagged with the translator and the asset.
func Log(level slog.Level, msg string) { hostLog(int32(level), msg) }

// Logf writes an info line to pbisync's log.
func Logf(format string, args ...any) { Log(slog.LevelInfo, fmt.Sprintf(format, args...)) }

// Config is the translator's `config` from the pipeline.
type Config struct{}

// String returns the value at a dotted path (a JSON string unquoted, anything else as
// JSON text) and whether it is present.
func (Config) String(path string) (string, bool) { return lookup(fConfig, path) }

// JSON returns the whole config as JSON ({} when the pipeline gives none).
func (Config) JSON() []byte { s, _ := get(fConfig, 0); return []byte(s) }

// Workspace is the asset's workspace.
type Workspace struct{ ID, Name, Type string }

// Asset is the asset being translated: its inputs, read-only, and its spec, editable.
// Edits the host refuses (an invalid value, too much output) fail the asset with the
// reason, so they need no error checks here.
type Asset struct{}

// Type is the content type: semantic_model, data_source, report, dashboard, or a type
// later snapshots add.
func (*Asset) Type() spec.ContentType {
	if current >= 2 && int(current-2) < len(typeByCode) {
		return typeByCode[current-2]
	}
	n := hostGet(fType, 0, &buf[0], int32(len(buf)))
	if n < 0 || int(n) > len(buf) {
		s, _ := get(fType, 0)
		return spec.ContentType(s)
	}
	// The built-in types need no allocation: this runs for every asset.
	for _, t := range spec.ContentTypes {
		if string(buf[:n]) == string(t) {
			return t
		}
	}
	return spec.ContentType(buf[:n])
}

// ID is the asset's Power BI id.
func (*Asset) ID() string { s, _ := get(fID, 0); return s }

// Name is the asset's Power BI name.
func (*Asset) Name() string { s, _ := get(fName, 0); return s }

// Workspace is the asset's workspace.
func (*Asset) Workspace() Workspace {
	id, _ := get(fWorkspaceID, 0)
	name, _ := get(fWorkspaceName, 0)
	typ, _ := get(fWorkspaceType, 0)
	return Workspace{ID: id, Name: name, Type: typ}
}

// Raw returns a raw Power BI property at a dotted path, e.g. "createdBy" or
// "tiles.0.reportId": a JSON string unquoted, anything else as JSON text.
func (*Asset) Raw(path string) (string, bool) { return lookup(fRaw, path) }

// RawJSON returns all raw Power BI properties as JSON.
func (*Asset) RawJSON() []byte { s, _ := get(fRaw, 0); return []byte(s) }

// Key returns the asset key.
func (*Asset) Key() spec.Key { return list(fKey) }

// SetKey replaces the asset key.
func (*Asset) SetKey(parts ...string) { hostSet(fKey, strings.Join(parts, "\x00")) }

// PrefixKey puts parts in front of the key.
func (*Asset) PrefixKey(parts ...string) {
	for i, p := range parts {
		hostInsert(fKey, int32(i), p)
	}
}

// Deps returns the keys the asset depends on.
func (*Asset) Deps() []spec.Key {
	var out []spec.Key
	for _, d := range list(fDeps) {
		out = append(out, strings.Split(d, "\x00"))
	}
	return out
}

// AddDep appends a dependency.
func (*Asset) AddDep(key ...string) { hostInsert(fDeps, -1, strings.Join(key, "\x00")) }

// RemoveDep removes the i-th dependency.
func (*Asset) RemoveDep(i int) { hostRemove(fDeps, int32(i)) }

// Kinds returns the asset's kinds.
func (*Asset) Kinds() []string { return list(fKinds) }

// SetKinds replaces the kinds.
func (*Asset) SetKinds(kinds ...string) { hostSet(fKinds, strings.Join(kinds, "\x00")) }

// AddKind appends a kind.
func (*Asset) AddKind(kind string) { hostInsert(fKinds, -1, kind) }

// Owners returns the asset's owners.
func (*Asset) Owners() []string { return list(fOwners) }

// SetOwners replaces the owners.
func (*Asset) SetOwners(owners ...string) { hostSet(fOwners, strings.Join(owners, "\x00")) }

// Description returns the description.
func (*Asset) Description() string { s, _ := get(fDescription, 0); return s }

// SetDescription replaces the description.
func (*Asset) SetDescription(d string) { hostSet(fDescription, d) }

// Group returns the group name.
func (*Asset) Group() string { s, _ := get(fGroup, 0); return s }

// SetGroup replaces the group name.
func (*Asset) SetGroup(g string) { hostSet(fGroup, g) }

// Tag returns a tag's value.
func (*Asset) Tag(name string) (string, bool) { return lookup(fTags, name) }

// Tags returns all tags.
func (a *Asset) Tags() map[string]string {
	out := map[string]string{}
	for _, k := range list(fTags) {
		out[k], _ = a.Tag(k)
	}
	return out
}

// SetTag sets a tag.
func (*Asset) SetTag(name, value string) { hostPut(fTags, name, value) }

// DeleteTag removes a tag.
func (*Asset) DeleteTag(name string) { hostDelete(fTags, name) }

// Metadata returns a metadata entry.
func (*Asset) Metadata(name string) (spec.Metadata, bool) {
	s, ok := lookup(fMetadata, name)
	if !ok {
		return spec.Metadata{}, false
	}
	var m spec.Metadata
	return m, json.Unmarshal([]byte(s), &m) == nil
}

// SetMetadata sets a metadata entry, e.g. SetMetadata("team", spec.Text("sales")).
func (*Asset) SetMetadata(name string, m spec.Metadata) {
	b, err := json.Marshal(m)
	if err != nil {
		hostFail(fmt.Sprintf("metadata %q: %v", name, err))
		return
	}
	hostPut(fMetadata, name, string(b))
}

// DeleteMetadata removes a metadata entry.
func (*Asset) DeleteMetadata(name string) { hostDelete(fMetadata, name) }

// Spec decodes the whole current spec. Prefer the field methods: decoding JSON in a
// Go guest costs far more than a few host calls.
func (*Asset) Spec() (spec.AssetSpec, error) {
	s, _ := get(fSpec, 0)
	var out spec.AssetSpec
	err := json.Unmarshal([]byte(s), &out)
	return out, err
}

// SetSpec replaces the whole spec (its powerbi identity cannot change).
func (*Asset) SetSpec(s spec.AssetSpec) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if hostSetJSON(fSpec, string(b)) != 0 {
		return errors.New("the host refused the spec")
	}
	return nil
}

// InputJSON returns the whole input as JSON: {"type","raw","workspace","spec"}.
func (*Asset) InputJSON() []byte { s, _ := get(fInput, 0); return []byte(s) }

// Drop removes the asset from the pipeline.
func (*Asset) Drop() { hostDrop() }

func initModule() int32 {
	if handler == nil {
		hostFail("no translator registered: call translator.Handle in an init function")
		return 1
	}
	if in, ok := handler.(Initer); ok {
		if err := in.Init(Config{}); err != nil {
			hostFail(err.Error())
			return 1
		}
	}
	return 0
}

func translateBatch() int32 {
	if handler == nil {
		return 1
	}
	var a Asset
	for !translateAssets(&a) {
	}
	return 0
}

// translateAssets runs the translator until the batch ends (true) or it panics (false):
// the panic fails the asset it happened on and the caller goes on with the next one.
// One deferred recover per batch, not per asset, keeps the loop cheap.
func translateAssets(a *Asset) (done bool) {
	defer func() {
		if r := recover(); r != nil {
			hostFail(fmt.Sprint("panic: ", r))
			done = false
		}
	}()
	for {
		if current = hostNext(); current == 0 {
			break
		}
		if err := handler.Translate(a); err != nil {
			hostFail(err.Error())
		}
	}
	return true
}
