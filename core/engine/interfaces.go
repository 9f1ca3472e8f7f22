// Package engine runs a pipeline: it pulls snapshots from a source, builds default
// specs, passes them through translators and hands events to sinks.
package engine

import (
	"context"

	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/sdk/event"
)

// Translator edits records. Translate gets a batch and returns the records to keep, in
// order, with per-asset problems; a returned error stops the sync. Records it drops are
// absent from the result.
type Translator interface {
	Name() string
	Translate(ctx context.Context, batch []record.Record) ([]record.Record, []record.Problem, error)
	Close(ctx context.Context) error
}

// Sink receives events. Write may be called many times; Close flushes and reports the
// first error that Write could not return.
type Sink interface {
	Name() string
	Write(ctx context.Context, events []event.Event) error
	Close(ctx context.Context) error
}

// EncodedSink is a Sink that takes spec events in the sink protocol's encoding
// (sdk/sink.EventBytesShared): the engine encodes them ahead of its Write.
type EncodedSink interface {
	Sink
	TakesEncoded() bool
}
