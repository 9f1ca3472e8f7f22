package serve_test

import (
	"os"
	"testing"

	"github.com/pbisync/pbisync/plugins/sinks/datahub"
	"github.com/pbisync/pbisync/plugins/sinks/jsonl"
	"github.com/pbisync/pbisync/plugins/sinks/openlineage"
	"github.com/pbisync/pbisync/plugins/sinks/sqlite"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinktest"
)

// TestMain doubles as pbisync's plugin mode: the sink host runs built-in sinks as
// `<running binary> plugin sink NAME`, and under `go test` the running binary is this one.
func TestMain(m *testing.M) {
	sinktest.ServeIfPlugin(map[string]func() sink.Sink{
		"jsonl":       func() sink.Sink { return jsonl.NewRaw() },
		"datahub":     func() sink.Sink { return datahub.New() },
		"openlineage": func() sink.Sink { return openlineage.New() },
		"sqlite":      func() sink.Sink { return sqlite.New() },
	})
	os.Exit(m.Run())
}
