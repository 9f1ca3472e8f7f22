package translate

import (
	"bytes"
	"context"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/record"
)

// TestDeterminismProbe runs the probe module (it records what the clocks, random_get
// and env.seed give each asset) over 2,000 assets in five set-ups that differ in
// GOMAXPROCS, pool size, batch size and order, and requires byte-identical output:
// without grants, clock and random are functions of the asset alone. With the clock
// granted, random must still be.
func TestDeterminismProbe(t *testing.T) {
	setups := []struct {
		procs, instances, batch int
		shuffle                 bool
	}{
		{1, 1, 2000, false},
		{2, 2, 500, false},
		{4, 4, 137, true},
		{8, 3, 1, false},
		{3, 8, 999, true},
	}
	for _, grant := range []string{"", "    grant: {clock: true}\n"} {
		var first []byte
		for i, s := range setups {
			got := probeRun(t, grant, s.procs, s.instances, s.batch, s.shuffle)
			if i == 0 {
				first = got
				continue
			}
			if !bytes.Equal(got, first) {
				t.Fatalf("grant %q: set-up %+v gives other bytes than set-up %+v", grant, s, setups[0])
			}
		}
	}
}

// probeRun translates 2,000 assets and returns the probe's findings as JSON Lines,
// sorted by asset ID. With the clock granted, only the random part is kept.
func probeRun(t *testing.T, grant string, procs, instances, batch int, shuffle bool) []byte {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	c, err := newChain(t, fixture("probe", grant), Options{Instances: instances})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	in := numbered(2000)
	if shuffle {
		r := rand.New(rand.NewPCG(uint64(batch), 7))
		r.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
	}
	var all []record.Record
	for lo := 0; lo < len(in); lo += batch {
		out, probs, err := c.Translate(context.Background(), in[lo:min(len(in), lo+batch)])
		if err != nil || len(probs) > 0 {
			t.Fatal(err, probs)
		}
		all = append(all, out...)
	}
	slices.SortFunc(all, func(a, b record.Record) int { return strings.Compare(a.Spec.PowerBI.ID, b.Spec.PowerBI.ID) })
	var lines []string
	for _, r := range all {
		line := r.Spec.PowerBI.ID + " " + r.Spec.Description
		if grant == "" {
			line += " " + r.Spec.Group
		}
		lines = append(lines, line)
	}
	if len(lines) != 2000 || len(all[0].Spec.Description) != 48 {
		t.Fatalf("probe output: %d assets, first %q", len(lines), lines[0])
	}
	if all[0].Spec.Description == all[1].Spec.Description {
		t.Fatalf("two assets got the same random bytes: %q", all[0].Spec.Description)
	}
	return []byte(strings.Join(lines, "\n"))
}
