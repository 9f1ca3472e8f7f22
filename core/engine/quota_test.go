package engine

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/powerbi"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/state"
)

// testQuotas are small limits on every admin endpoint a sync calls. The planner tests run
// them on a fake clock that only its waits move, so what waits is the same on any machine;
// a listing is two requests (a page, then the empty page that ends it), and modified's
// window is longer than the listing's, so a sync's wait for the listing does not also free
// its modified call; scanResult's likewise outlasts the scanStatus and getInfo waits of a
// sync (3 batches: 3h at most), and the listing's outlasts all the scan waits of the first
// sync, so that whatever order the parallel scans take, every limit is met.
var testQuotas = []struct {
	endpoint string
	max      int
	per      time.Duration
}{
	{"GET /admin/groups", 2, 24 * time.Hour},
	{"GET /admin/workspaces/modified", 1, 48 * time.Hour},
	{"POST /admin/workspaces/getInfo", 2, time.Hour},
	{"GET /admin/workspaces/scanStatus/{id}", 1, time.Hour},
	// Longer than scanStatus's window times the scans of a sync: the clock that the
	// status waits move never frees a second scanResult on its own.
	{"GET /admin/workspaces/scanResult/{id}", 1, 4 * time.Hour},
}

func plannerLimits() (out []powerbi.Limit) {
	for _, q := range testQuotas {
		out = append(out, powerbi.Limit{Endpoint: q.endpoint, Max: q.max, Per: q.per})
	}
	return out
}

// scanLimits limits the scanner endpoints only, for the resume test: each run can list,
// and stops at the scans.
func scanLimits() (out []powerbi.Limit) {
	for _, l := range plannerLimits() {
		if strings.Contains(l.Endpoint, "/workspaces/scan") || strings.Contains(l.Endpoint, "getInfo") {
			l.Max = 2
			out = append(out, l)
		}
	}
	return out
}

// fakeClock is the planner's clock in tests: Sleep moves it at once.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.advance(d)
	return ctx.Err()
}
func (c *fakeClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// syncBuf is a log buffer safe for the client's goroutines.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// quotaSync runs one sync as a new process would, with a planner on clock over the state
// store's ledger (nil limits: no planner).
func quotaSync(t *testing.T, srv *powerbitest.Server, st *state.Store, limits []powerbi.Limit, noWait bool, logs *syncBuf, clock *fakeClock) (*collect, *Result, error) {
	t.Helper()
	src := emulatorTestSource(t, srv, "tenant")
	if limits != nil {
		q := &powerbi.Quota{Tenant: srv.TenantID, Limits: limits, Ledger: st, NoWait: noWait, Logger: slog.New(slog.NewTextHandler(logs, nil)),
			Now: clock.Now, Sleep: clock.Sleep}
		src.client.UseQuota(q)
	}
	src.resume = &resumer{store: st, pipeline: "test", source: src.name, log: slog.New(slog.DiscardHandler)}
	src.client.UseScanJournal(src.resume)
	sink := &collect{name: "c"}
	e := newEngine([]Source{src}, sink)
	e.State = st
	e.Sinks = e.withEstate(e.Sinks) // an incremental sync needs the estate
	res, err := e.Run(context.Background(), RunOptions{})
	return sink, res, err
}

// TestQuotaPlannerWaits: with every admin endpoint limited, the planner waits before each
// limit, saying which and until when, counting across runs through the state store, and
// every sync completes.
func TestQuotaPlannerWaits(t *testing.T) {
	srv := newEmulator(t, 9, 15) // 3 batches of 5: more getInfo, scanStatus and scanResult calls than the limits allow at once
	st := openState(t)
	logs := &syncBuf{}
	clock := &fakeClock{t: time.Now()}
	if _, _, err := quotaSync(t, srv, st, plannerLimits(), false, logs, clock); err != nil {
		t.Fatal(err)
	}
	srv.ModifyWorkspaces(1)
	// Two more runs: their listings and modified calls exceed the limits of one per
	// window, known only from the ledger the earlier runs wrote.
	for range 2 {
		c, _, err := quotaSync(t, srv, st, plannerLimits(), false, logs, clock)
		if err != nil {
			t.Fatal(err)
		}
		if c.kinds()["summary"] != 1 {
			t.Fatal("a sync did not complete")
		}
	}
	for _, q := range testQuotas {
		if !strings.Contains(logs.String(), "to "+q.endpoint) {
			t.Errorf("the planner never waited for %s", q.endpoint)
		}
	}
	if !strings.Contains(logs.String(), "waiting for the admin API quota") || !strings.Contains(logs.String(), "until=") {
		t.Errorf("the planner did not say why and until when it waited:\n%s", logs)
	}
	if testing.Verbose() {
		t.Log(logs.String())
	}
	// No window was exceeded: per endpoint, no more than max requests in any window.
	for _, q := range testQuotas {
		times, _ := st.RequestsSince(context.Background(), srv.TenantID, q.endpoint, time.Time{})
		for i := q.max; i < len(times); i++ {
			if times[i].Sub(times[i-q.max]) < q.per {
				t.Errorf("%s: %d requests within %s", q.endpoint, q.max+1, q.per)
			}
		}
	}
}

// TestQuotaNoWaitStopsAndResumes: with --no-wait the sync stops cleanly at the first
// limit (nothing saved, nothing removed); each later run replays what the stopped ones
// read and scans only the rest, until one completes, having scanned every workspace once.
func TestQuotaNoWaitStopsAndResumes(t *testing.T) {
	srv := newEmulator(t, 9, 15)
	st := openState(t)
	logs := &syncBuf{}
	clock := &fakeClock{t: time.Now()}
	c1, _, err := quotaSync(t, srv, st, scanLimits(), true, logs, clock)
	var qe *powerbi.QuotaError
	if !errors.Is(err, powerbi.ErrQuota) || !errors.As(err, &qe) || qe.Until.IsZero() {
		t.Fatalf("want a quota stop, got %v", err)
	}
	if c1.kinds()["summary"] != 0 || c1.kinds()["removed"] != 0 {
		t.Fatalf("a stopped sync sent %v", c1.kinds())
	}
	if prev, _ := st.PreviousAssets(context.Background(), "test"); len(prev) != 0 {
		t.Fatal("a stopped sync saved its assets")
	}
	if m, _ := st.SyncMark(context.Background(), "test", "tenant"); !m.Mark.IsZero() {
		t.Fatal("a stopped sync moved the high-water mark")
	}
	// Each run gets further, replaying what the stopped ones read, until one completes.
	var done *collect
	stops := 1
	for runs := 2; ; runs++ {
		clock.advance(qe.Until.Sub(clock.Now())) // the user waits until the time the stop named
		c, _, err := quotaSync(t, srv, st, scanLimits(), true, logs, clock)
		if err == nil {
			done = c
			t.Logf("completed in run %d", runs)
			break
		}
		if !errors.As(err, &qe) || runs > 20 {
			t.Fatalf("resuming: %v", err)
		}
		stops++
	}
	if done.kinds()["summary"] != 1 || done.kinds()["removed"] != 0 {
		t.Fatal("the resumed sync did not complete")
	}
	// Every batch was scanned and its result read once over all the runs: a later run
	// replays what an earlier one read, and reads the scans a stop interrupted (started,
	// not yet read) instead of starting them again.
	results, started := 0, 0
	for _, r := range srv.Log() {
		switch {
		case r.Endpoint == "GET /admin/workspaces/scanResult/{id}" && r.Status == 200:
			results++
		case r.Endpoint == "POST /admin/workspaces/getInfo" && r.Status == 202:
			started++
		}
	}
	if results != 3 || started != 3 {
		t.Errorf("%d scan results read and %d scans started for 3 batches in %d stopped runs", results, started, stops)
	}
	// The completed run sent the whole tenant, replayed batches included.
	ref := newEmulator(t, 9, 15)
	whole, _, err := quotaSync(t, ref, openState(t), nil, false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if done.kinds()["spec"] != whole.kinds()["spec"] {
		t.Errorf("the resumed sync sent %d specs, the whole tenant has %d", done.kinds()["spec"], whole.kinds()["spec"])
	}
	prev, _ := st.PreviousAssets(context.Background(), "test")
	if len(prev) != done.kinds()["spec"] {
		t.Errorf("the completed sync saved %d assets and sent %d", len(prev), done.kinds()["spec"])
	}
	if b, _ := st.ResumeBatches(context.Background(), "test", "tenant", time.Time{}); len(b) != 0 {
		t.Errorf("a completed sync left %d kept batches", len(b))
	}
}

// TestEmulatorEnforcesQuotas: without a planner the emulator answers 429 with Retry-After
// past its limits, and the client's retries still complete the sync. (Every endpoint's
// throttling is checked in powerbitest's TestQuotasThrottle.)
func TestEmulatorEnforcesQuotas(t *testing.T) {
	srv := newEmulator(t, 9, 15, powerbitest.WithQuotas(
		powerbitest.Quota{Endpoint: "POST /admin/workspaces/getInfo", Max: 2, Per: 2 * time.Second},
		powerbitest.Quota{Endpoint: "GET /admin/workspaces/scanResult/{id}", Max: 2, Per: 2 * time.Second}))
	c, _, err := quotaSync(t, srv, openState(t), nil, false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Three scans are started at once, two are allowed in the window.
	if th := srv.Throttled(); th["POST /admin/workspaces/getInfo"] == 0 || c.kinds()["summary"] != 1 {
		t.Errorf("throttled %v; the sync sent %v", th, c.kinds())
	}
}
