package translate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/sdk/spec"
)

// TestResult is one asset's outcome in a TestRun.
type TestResult struct {
	Before  record.Record
	After   *spec.AssetSpec // nil when dropped or failed
	Dropped bool
	Err     error
}

// Changed reports whether the translator changed, dropped or failed the asset.
func (r *TestResult) Changed() bool {
	if r.After == nil {
		return true
	}
	a, _ := json.Marshal(r.Before.Spec)
	b, _ := json.Marshal(r.After)
	return !bytes.Equal(a, b)
}

// TestReport is what TestRun found: every asset's outcome and the timings.
type TestReport struct {
	Translator string
	Results    []TestResult
	Start      time.Duration // decode, build or load, compile, first instance and init
	Run        time.Duration // translating every record once
}

// Failed counts the assets the translator failed.
func (r *TestReport) Failed() int {
	n := 0
	for i := range r.Results {
		if r.Results[i].Err != nil {
			n++
		}
	}
	return n
}

// Output returns the records the translator keeps, in order, as a pipeline would pass
// them on (failed assets are left out).
func (r *TestReport) Output() []record.Record {
	var out []record.Record
	for _, res := range r.Results {
		if res.After != nil {
			rec := res.Before
			rec.Spec = *res.After
			out = append(out, rec)
		}
	}
	return out
}

// resultRunner is a translator that can report each asset's outcome before a policy
// applies, as TestRun needs.
type resultRunner interface {
	results(ctx context.Context, recs []record.Record) ([]result, error)
}

func (w *WASM) results(ctx context.Context, recs []record.Record) ([]result, error) {
	res := make([]result, len(recs))
	return res, w.run(ctx, recs, res, make([]record.Record, len(recs)))
}

func (t *noCode) results(_ context.Context, recs []record.Record) ([]result, error) {
	res := make([]result, len(recs))
	for i := range recs {
		res[i] = t.one(&recs[i])
	}
	return res, nil
}

// TestRun loads one translator entry and runs it over records, keeping each asset's
// outcome (whatever its on_error policy) and the timings, for `pbisync translator test`.
func TestRun(ctx context.Context, recs []record.Record, entry config.Node, opts Options) (*TestReport, error) {
	t0 := time.Now()
	e, err := DecodeEntry(entry)
	if err != nil {
		return nil, err
	}
	c := &Chain{}
	defer c.Close(ctx)
	tr, err := c.load(ctx, &e, &opts)
	if err != nil {
		return nil, err
	}
	c.steps = []Translator{tr}
	rep := &TestReport{Translator: e.Name, Start: time.Since(t0)}
	t1 := time.Now()
	res, err := tr.(resultRunner).results(ctx, recs)
	rep.Run = time.Since(t1)
	if err != nil {
		return nil, err
	}
	for i := range recs {
		r := TestResult{Before: recs[i]}
		switch res[i].outcome {
		case outKeep:
			if res[i].spec != nil {
				r.After = res[i].spec
			} else {
				s := recs[i].Spec
				r.After = &s
			}
		case outDrop:
			r.Dropped = true
		case outFail:
			r.Err = res[i].err
		}
		rep.Results = append(rep.Results, r)
	}
	return rep, nil
}

// WriteDiff writes the report for people: a summary with timings, then each asset with
// the fields the translator changed as -/+ lines. With changedOnly, unchanged assets
// are left out.
func (r *TestReport) WriteDiff(w io.Writer, changedOnly bool) error {
	var changed, dropped int
	for i := range r.Results {
		switch {
		case r.Results[i].Dropped:
			dropped++
		case r.Results[i].Err == nil && r.Results[i].Changed():
			changed++
		}
	}
	n := len(r.Results)
	per := time.Duration(0)
	if n > 0 {
		per = r.Run / time.Duration(n)
	}
	bw := &errWriter{w: w}
	bw.printf("translator %s: %d assets, %d changed, %d dropped, %d failed\n", r.Translator, n, changed, dropped, r.Failed())
	bw.printf("start %s, run %s (%s per asset)\n", round(r.Start), round(r.Run), per)
	for i := range r.Results {
		res := &r.Results[i]
		id := res.Before.Spec.PowerBI.String()
		switch {
		case res.Err != nil:
			bw.printf("\n%s\n  ! failed: %v\n", id, res.Err)
		case res.Dropped:
			bw.printf("\n%s\n  - dropped\n", id)
		case !res.Changed():
			if !changedOnly {
				bw.printf("\n%s\n  = unchanged\n", id)
			}
		default:
			bw.printf("\n%s\n", id)
			for _, l := range specDiff(&res.Before.Spec, res.After) {
				bw.printf("  %s\n", l)
			}
		}
	}
	return bw.err
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d
}

// specDiff lists changed fields as "- field: old" / "+ field: new" lines, map fields
// entry by entry.
func specDiff(a, b *spec.AssetSpec) []string {
	var out []string
	field := func(name string, x, y any) {
		jx, _ := json.Marshal(x)
		jy, _ := json.Marshal(y)
		if !bytes.Equal(jx, jy) {
			out = append(out, fmt.Sprintf("- %s: %s", name, jx), fmt.Sprintf("+ %s: %s", name, jy))
		}
	}
	orEmpty := func(v []string) []string {
		if v == nil {
			return []string{}
		}
		return v
	}
	field("key", a.Key, b.Key)
	field("deps", a.Deps, b.Deps)
	field("description", a.Description, b.Description)
	field("group", a.Group, b.Group)
	field("kinds", orEmpty(a.Kinds), orEmpty(b.Kinds))
	field("owners", orEmpty(a.Owners), orEmpty(b.Owners))
	mapDiff(&out, "tags", a.Tags, b.Tags)
	mapDiff(&out, "metadata", a.Metadata, b.Metadata)
	return out
}

func mapDiff[V any](out *[]string, name string, a, b map[string]V) {
	keys := slices.Sorted(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		x, inA := a[k]
		y, inB := b[k]
		jx, _ := json.Marshal(x)
		jy, _ := json.Marshal(y)
		switch {
		case inA && !inB:
			*out = append(*out, fmt.Sprintf("- %s[%q]: %s", name, k, jx))
		case !inA && inB:
			*out = append(*out, fmt.Sprintf("+ %s[%q]: %s", name, k, jy))
		case !bytes.Equal(jx, jy):
			*out = append(*out, fmt.Sprintf("- %s[%q]: %s", name, k, jx), fmt.Sprintf("+ %s[%q]: %s", name, k, jy))
		}
	}
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
