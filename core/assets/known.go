package assets

import "github.com/pbisync/pbisync/sdk/spec"

// Know tells the builder the key of an asset that this stream will not carry (it is in a
// workspace an incremental sync did not rescan), so that dependencies on it resolve to
// that key instead of being held and then dropped. An asset the stream does carry takes
// precedence: its key is looked up first. Types without dependents (dashboards, tiles)
// are ignored.
func (b *Builder) Know(t spec.ContentType, id string, key spec.Key) {
	var kind refKind
	switch t {
	case spec.SemanticModel:
		kind = refModel
	case spec.Report:
		kind = refReport
	case spec.DataSource:
		kind = refDataSource
	case spec.Dataflow, spec.Datamart:
		kind = refDataflow
	default:
		return
	}
	if id == "" || len(key) == 0 {
		return
	}
	if b.known == nil {
		b.known = map[target]spec.Key{}
	}
	b.known[target{kind, id}] = key
}
