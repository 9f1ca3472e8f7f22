package datahub

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinktest"
)

// mcpSet reads a file the sink wrote as its distinct MCPs.
func mcpSet(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var mcps []json.RawMessage
	if err := json.Unmarshal(data, &mcps); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := make([]string, len(mcps))
	for i, m := range mcps {
		out[i] = string(m)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestOutputIsAFunctionOfTheEstate: every event written by a sink process of its own, in
// reverse order (restarts at worst), gives together the MCPs that the whole stream in one
// process gives: nothing depends on what the process saw before.
func TestOutputIsAFunctionOfTheEstate(t *testing.T) {
	cfg := func(file string) string { return `{"file":"` + file + `","upstream":{"platform":"mssql"}}` }
	want, got := sinktest.Apart(t, func() sink.Sink { return New() }, cfg, sinktest.Sample(), mcpSet)
	if !slices.Equal(want, got) {
		t.Errorf("apart, the MCPs differ:\n got %d: %q\nwant %d: %q", len(got), got, len(want), want)
	}
	// The sample's report has its model's tables as datasets, and its tile the report's URL.
	found := 0
	for _, m := range want {
		if json.Valid([]byte(m)) && (contains(m, `"datasetEdges":[{"destinationUrn":"urn:li:dataset:(urn:li:dataPlatform:powerbi,`) ||
			contains(m, `"externalUrl":"https://app.powerbi.com/groups/a1b2c3d4-0000-4000-8000-000000000001/reports/`)) {
			found++
		}
	}
	if found < 2 {
		t.Errorf("the report's datasets or the tile's URL are missing (%d found)", found)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
