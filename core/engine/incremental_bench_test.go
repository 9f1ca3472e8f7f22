package engine

import (
	"context"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/assets"
	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/powerbi"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
)

// BenchmarkIncrementalSync compares, in one run, syncs of the 1,000-workspace tenant
// (35,000 assets) from the in-process emulator with a state store and the estate:
// a full sync (--full), an incremental sync with nothing changed, and one with 1% of the
// workspaces (10) changed. It reports cpu-s/op, the API requests and getInfo batches of
// one sync, and the specs sent.
func BenchmarkIncrementalSync(b *testing.B) {
	tenant := powerbitest.Generate(1, powerbitest.LargeSize())
	srv, err := powerbitest.NewServer(tenant, powerbitest.WithScanPolls(2))
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	st, err := state.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	sync := func(b *testing.B, full, replacing bool) (*Result, map[string]int64, int64) {
		c := benchClient(b, srv)
		sink := &countSink{}
		e := &Engine{
			Pipeline:   "bench",
			Sources:    []Source{&powerbiSource{name: "emulator", client: c}},
			NewBuilder: func() Builder { return assets.NewBuilder(assets.Options{}) },
			Keys:       assets.NewKeyIndex(),
			Sinks:      []Sink{sink},
			State:      st,
		}
		e.Sinks = e.withEstate(e.Sinks)
		if replacing {
			// An output that a sync replaces (a file of specs): it is sent every asset,
			// the unchanged ones from the estate.
			sinks := e.Sinks
			e.Sinks, e.OpenSinks = nil, func(context.Context) ([]Sink, error) { return []Sink{&replacingSink{sink}, sinks[1]}, nil }
		}
		res, err := e.Run(context.Background(), RunOptions{Full: full})
		if err != nil {
			b.Fatal(err)
		}
		return res, c.Requests(), sink.specs.Load()
	}
	sync(b, true, false) // the first complete sync, which later ones build on
	for _, bc := range []struct {
		name      string
		full      bool
		change    int
		replacing bool
	}{
		{"full", true, 0, false},
		{"nothing-changed", false, 0, false},
		{"1pct-changed", false, 10, false},
		{"1pct-changed-replacing-output", false, 10, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var requests, getInfo, specs int64
			var cpu time.Duration
			for b.Loop() {
				srv.Age(time.Hour) // earlier changes leave modified's 30-minute window
				if bc.change > 0 {
					srv.ModifyWorkspaces(bc.change)
				}
				cpu0 := cpuTime()
				_, req, n := sync(b, bc.full, bc.replacing)
				cpu += cpuTime() - cpu0
				requests, getInfo, specs = total(req), req["POST /admin/workspaces/getInfo"], n
			}
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(requests), "requests")
			b.ReportMetric(float64(getInfo), "getInfo")
			b.ReportMetric(float64(specs), "specs-sent")
		})
	}
}

// replacingSink is an output that takes part in runs but not in syncs of changes only,
// as a plugin whose file a sync replaces.
type replacingSink struct{ *countSink }

func (replacingSink) Begin(context.Context, sink.RunKind) error { return nil }
func (replacingSink) Takes(...event.Kind) bool                  { return true }
func (replacingSink) AbortRun(context.Context, error)           {}

// WriteEncoded takes events in the protocol's encoding, as a plugin's host does.
func (r replacingSink) WriteEncoded(_ context.Context, evs [][]byte) error {
	r.specs.Add(int64(len(evs)))
	return nil
}

// benchClient is an incremental client of the in-process emulator, polling scans every
// 50 ms, for the benchmarks of large syncs.
func benchClient(b *testing.B, srv *powerbitest.Server) *powerbi.Client {
	b.Helper()
	cr := srv.Credentials()
	cfg := powerbi.Config{APIURL: srv.URL(), AuthorityHost: srv.AuthorityURL(), TenantID: srv.TenantID,
		Credentials: powerbi.Credentials{ClientID: cr.ClientID, ClientSecret: config.NewSecret(cr.ClientSecret)}}
	cfg.Scanner.PollInterval = 50 * time.Millisecond
	on := true
	cfg.Incremental.Enabled = &on
	c, err := powerbi.New(cfg, powerbi.WithAuthorityHTTPClient(srv.TLSClient()))
	if err != nil {
		b.Fatal(err)
	}
	return c
}
