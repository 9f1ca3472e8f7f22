package powerbi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Limit is a documented limit of the Power BI admin APIs: at most Max requests to
// Endpoint (a template, as Requests counts) per Per, per tenant.
type Limit struct {
	Endpoint string
	Max      int
	Per      time.Duration
}

func (l Limit) String() string {
	return fmt.Sprintf("%d requests per %s to %s", l.Max, l.Per, l.Endpoint)
}

// DocumentedLimits are the admin APIs' limits per tenant (powerbi-rest.md). The limit of
// 16 scans running at once is scanner.parallel_scans' maximum.
func DocumentedLimits() []Limit {
	return []Limit{
		{"GET /admin/groups", 50, time.Hour},
		{"GET /admin/groups", 15, time.Minute},
		{"POST /admin/workspaces/getInfo", 500, time.Hour},
		{"GET /admin/workspaces/scanStatus/{id}", 10000, time.Hour},
		{"GET /admin/workspaces/scanResult/{id}", 500, time.Hour},
		{"GET /admin/workspaces/modified", 30, time.Hour},
	}
}

// QuotaLedger keeps the requests sent to the limited endpoints, per tenant, across runs
// (core/state implements it).
type QuotaLedger interface {
	RecordRequest(ctx context.Context, tenant, endpoint string, at time.Time) error
	// RequestsSince returns the times of the requests after since, oldest first.
	RequestsSince(ctx context.Context, tenant, endpoint string, since time.Time) ([]time.Time, error)
}

// ErrQuota is wrapped by the error of a request that --no-wait stopped.
var ErrQuota = errors.New("admin API quota used up")

// QuotaError says which limit stopped a request and when it would have been allowed.
type QuotaError struct {
	Limit Limit
	Until time.Time
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("stopped before exceeding the service's limit of %s; the next is allowed at %s (run again then, or without --no-wait to wait)",
		e.Limit, e.Until.UTC().Format(time.RFC3339))
}

// Unwrap makes errors.Is(err, ErrQuota) true.
func (e *QuotaError) Unwrap() error { return ErrQuota }

// Quota plans a client's requests against the limits: before a limited request it waits
// until the request fits every limit of its endpoint (saying why and until when), or,
// with NoWait, fails it with a *QuotaError so the sync stops cleanly. Requests are
// counted in the ledger, so the next run knows what this one used.
type Quota struct {
	Tenant string
	Limits []Limit
	Ledger QuotaLedger // nil: counted in this process only
	NoWait bool
	Logger *slog.Logger
	// Now and Sleep default to the clock; tests replace them.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error

	mu     sync.Mutex
	used   map[string][]time.Time // endpoint -> request times within the longest window
	loaded map[string]bool
}

// NewQuota returns a Quota with the documented limits.
func NewQuota(tenant string, ledger QuotaLedger, noWait bool, log *slog.Logger) *Quota {
	return &Quota{Tenant: tenant, Limits: DocumentedLimits(), Ledger: ledger, NoWait: noWait, Logger: log}
}

// UseQuota makes the client plan its requests against q (nil: no planning).
func (c *Client) UseQuota(q *Quota) { c.quota = q }

func (q *Quota) limitsOf(endpoint string) (out []Limit, window time.Duration) {
	for _, l := range q.Limits {
		if l.Endpoint == endpoint && l.Max > 0 && l.Per > 0 {
			out = append(out, l)
			window = max(window, l.Per)
		}
	}
	return out, window
}

// take waits until a request to endpoint fits its limits and counts it.
func (q *Quota) take(ctx context.Context, endpoint string) error {
	if q == nil {
		return nil
	}
	limits, window := q.limitsOf(endpoint)
	if len(limits) == 0 {
		return nil
	}
	now, sleep := q.Now, q.Sleep
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepCtx
	}
	for {
		q.mu.Lock()
		t := now()
		if err := q.load(ctx, endpoint, t.Add(-window)); err != nil {
			q.mu.Unlock()
			return err
		}
		times := q.used[endpoint]
		cut := 0
		for cut < len(times) && !times[cut].After(t.Add(-window)) {
			cut++
		}
		times = times[cut:]
		var until time.Time
		var binding Limit
		for _, l := range limits {
			from := t.Add(-l.Per)
			i, _ := slices.BinarySearchFunc(times, from, func(a, b time.Time) int { return a.Compare(b) })
			for i < len(times) && !times[i].After(from) {
				i++
			}
			if n := len(times) - i; n >= l.Max {
				// The request fits once the Max-th latest request leaves the window.
				// A margin covers the request's way to the service.
				if u := times[len(times)-l.Max].Add(l.Per + min(time.Second, l.Per/20)); u.After(until) {
					until, binding = u, l
				}
			}
		}
		if until.IsZero() {
			q.used[endpoint] = append(times, t)
			q.mu.Unlock()
			if q.Ledger != nil {
				if err := q.Ledger.RecordRequest(ctx, q.Tenant, endpoint, t); err != nil {
					return err
				}
			}
			return nil
		}
		q.used[endpoint] = times
		q.mu.Unlock()
		if q.NoWait {
			return &QuotaError{Limit: binding, Until: until}
		}
		if q.Logger != nil {
			q.Logger.Info("waiting for the admin API quota", "limit", binding.String(), "until", until.UTC().Format(time.RFC3339), "wait", until.Sub(t).Round(time.Second).String())
		}
		if err := sleep(ctx, until.Sub(t)); err != nil {
			return err
		}
	}
}

// load reads the ledger's requests to endpoint once; call with mu held.
func (q *Quota) load(ctx context.Context, endpoint string, since time.Time) error {
	if q.used == nil {
		q.used, q.loaded = map[string][]time.Time{}, map[string]bool{}
	}
	if q.loaded[endpoint] {
		return nil
	}
	q.loaded[endpoint] = true
	if q.Ledger == nil {
		return nil
	}
	times, err := q.Ledger.RequestsSince(ctx, q.Tenant, endpoint, since)
	if err != nil {
		return fmt.Errorf("quota of %s: %w", endpoint, err)
	}
	q.used[endpoint] = append(times, q.used[endpoint]...)
	return nil
}
