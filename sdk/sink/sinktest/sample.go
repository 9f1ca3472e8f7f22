package sinktest

import (
	"bytes"
	_ "embed"

	"github.com/pbisync/pbisync/sdk/event"
)

//go:embed testdata/sample.jsonl
var sample []byte

// Sample returns a small recorded stream with every event kind: a data source, two
// semantic models (one with two tables), a report with pages, a dashboard with tiles,
// a removed report, two refreshes (one completed, one failed) and a summary.
func Sample() []event.Event {
	evs, err := ReadEvents(bytes.NewReader(sample))
	if err != nil {
		panic("sinktest: embedded sample is broken: " + err.Error()) // caught by this package's tests
	}
	return evs
}
