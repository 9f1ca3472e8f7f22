package main

import (
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/estate"
	"github.com/pbisync/pbisync/sdk/event"
)

// TestImpactCommand syncs the emulator's sample tenant, then asks what is downstream of
// its Snowflake orders table; the answer must be what the synced specs' deps say, read from
// the events output independently of the estate.
func TestImpactCommand(t *testing.T) {
	f, dir := writePipeline(t, emulatorPipeline)
	if code, _, errOut := cli(t, "sync", "-f", f); code != exitOK {
		t.Fatalf("sync: exit %d: %s", code, errOut)
	}
	deps := map[string][]string{}
	for _, ev := range readEvents(t, filepath.Join(dir, "events.jsonl")) {
		if ev.Kind == event.KindSpec {
			for _, d := range ev.Spec.Deps {
				deps[ev.Spec.Key.String()] = append(deps[ev.Spec.Key.String()], d.String())
			}
		}
	}
	start := "sales_db/public/orders"
	want := map[string]bool{start: true}
	for changed := true; changed; {
		changed = false
		for k, ds := range deps {
			for _, d := range ds {
				if want[d] && !want[k] {
					want[k], changed = true, true
				}
			}
		}
	}
	delete(want, start)

	code, out, errOut := cli(t, "impact", "-f", f, "--format", "json", start)
	if code != exitOK {
		t.Fatalf("impact: exit %d: %s", code, errOut)
	}
	var res estate.ImpactResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("impact --format json: %v\n%s", err, out)
	}
	var got []string
	types := map[string]bool{}
	for _, im := range res.Impacted {
		got = append(got, im.Key.String())
		types[im.Type] = true
	}
	var wantKeys []string
	for k := range want {
		wantKeys = append(wantKeys, k)
	}
	slices.Sort(got)
	slices.Sort(wantKeys)
	if !slices.Equal(got, wantKeys) {
		t.Errorf("impact of %s:\n got %v\nwant %v", start, got, wantKeys)
	}
	for _, typ := range []string{"semantic_model", "report", "dashboard"} {
		if !types[typ] {
			t.Errorf("impact of the Snowflake orders table has no %s: %v", typ, got)
		}
	}

	code, out, _ = cli(t, "impact", "-f", f, start)
	if code != exitOK || !strings.Contains(out, "Downstream of "+start) || !strings.Contains(out, "via "+start+" > semantic_model/Sales_Model") {
		t.Errorf("impact text: exit %d\n%s", code, out)
	}
	code, out, _ = cli(t, "impact", "-f", f, "--format", "csv", "--upstream", "executive kpis")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != exitOK || err != nil || len(rows) < 2 {
		t.Fatalf("impact --upstream csv: exit %d %v\n%s", code, err, out)
	}
	if !strings.Contains(out, start) {
		t.Errorf("upstream of Executive KPIs lacks %s:\n%s", start, out)
	}
	if code, _, errOut := cli(t, "impact", "-f", f, "no-such-asset"); code != exitUsage || !strings.Contains(errOut, "no-such-asset") {
		t.Errorf("unknown name: exit %d: %s", code, errOut)
	}
	off, _ := writePipeline(t, "estate: false\n"+emulatorPipeline)
	if code, _, errOut := cli(t, "sync", "-f", off); code != exitOK {
		t.Fatalf("sync with estate: false: exit %d: %s", code, errOut)
	}
	if code, _, errOut := cli(t, "impact", "-f", off, start); code == exitOK || !strings.Contains(errOut, "no estate") {
		t.Errorf("impact with estate: false: exit %d: %s", code, errOut)
	}
	fresh, _ := writePipeline(t, emulatorPipeline)
	if code, _, errOut := cli(t, "impact", "-f", fresh, start); code == exitOK || !strings.Contains(errOut, "run `pbisync sync` first") {
		t.Errorf("impact before any sync: exit %d: %s", code, errOut)
	}
}
