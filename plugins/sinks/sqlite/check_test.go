package sqlite

import (
	"testing"

	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinktest"
)

// TestCheckOpensNothing checks the config as Configure would (pbisync validate calls
// Check) and creates, opens and writes nothing.
func TestCheckOpensNothing(t *testing.T) {
	sinktest.CheckOpensNothing(t, func() sink.Sink { return New() }, sinktest.CheckCase{
		File: "catalog.db", Good: `{"path":"TARGET"}`, Bad: `{"path":"TARGET","pth":1}`, Want: "unknown key"})
}
