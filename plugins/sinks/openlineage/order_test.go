package openlineage

import (
	"bufio"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinktest"
)

// eventSet reads a file the sink wrote as its distinct events, without their eventTime
// (a dataset event is stamped when it is written).
func eventSet(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if m["dataset"] != nil {
			delete(m, "eventTime")
		}
		b, _ := json.Marshal(m)
		out = append(out, string(b))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestOutputIsAFunctionOfTheEstate: every event written by a sink process of its own, in
// reverse order (restarts at worst), gives together the events that the whole stream in
// one process gives, refresh runs included (their inputs and outputs come from the
// event's model spec, without a state file).
func TestOutputIsAFunctionOfTheEstate(t *testing.T) {
	cfg := func(file string) string { return `{"file":"` + file + `","upstream_namespace":"mssql://sql1:1433"}` }
	want, got := sinktest.Apart(t, func() sink.Sink { return New() }, cfg, sinktest.Sample(), eventSet)
	if !slices.Equal(want, got) {
		t.Errorf("apart, the events differ:\n got %d: %q\nwant %d: %q", len(got), got, len(want), want)
	}
	// The refresh runs name the model's tables as outputs and its upstreams as inputs.
	runs := 0
	for _, e := range want {
		if strings.Contains(e, `"eventType":"COMPLETE"`) {
			runs++
			if !strings.Contains(e, `"outputs":[{"facets":{"schema"`) || !strings.Contains(e, `"name":"warehouse.dbo.orders"`) {
				t.Errorf("the completed run lacks the model's tables or upstreams: %s", e)
			}
		}
	}
	if runs != 1 {
		t.Errorf("%d completed runs", runs)
	}
}
