package datahub

import (
	"testing"

	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinktest"
)

// TestCheckOpensNothing checks the config as Configure would (pbisync validate calls
// Check) and creates, opens and writes nothing.
func TestCheckOpensNothing(t *testing.T) {
	sinktest.CheckOpensNothing(t, func() sink.Sink { return New() }, sinktest.CheckCase{
		File: "mcps.json", Good: `{"file":"TARGET"}`, Bad: `{"file":"TARGET","workers":100}`, Want: "workers must be between 1 and 64"})
}
