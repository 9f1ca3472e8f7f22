package serve_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/pbisync/pbisync/plugins/sinks/jsonl"
	"github.com/pbisync/pbisync/sdk/sink"
)

// TestMain doubles as pbisync's plugin mode: the sink host runs built-in sinks as
// `<running binary> plugin sink NAME`, and under `go test` the running binary is this one.
func TestMain(m *testing.M) {
	if len(os.Args) >= 4 && os.Args[1] == "plugin" && os.Args[2] == "sink" {
		if os.Args[3] != "jsonl" {
			fmt.Fprintf(os.Stderr, "this test serves only the jsonl sink, not %q\n", os.Args[3])
			os.Exit(2)
		}
		sink.Serve(jsonl.New())
		os.Exit(0)
	}
	os.Exit(m.Run())
}
