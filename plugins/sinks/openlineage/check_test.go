package openlineage

import (
	"testing"

	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinktest"
)

// TestCheckOpensNothing checks the config as Configure would (pbisync validate calls
// Check) and creates, opens and writes nothing.
func TestCheckOpensNothing(t *testing.T) {
	sinktest.CheckOpensNothing(t, func() sink.Sink { return New() }, sinktest.CheckCase{
		File: "events.jsonl", Good: `{"file":"TARGET"}`, Bad: `{"file":"TARGET","endpoint":"api"}`, Want: "want a path starting with /"})
}
