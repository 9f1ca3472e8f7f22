package powerbitest

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Quota is a limit the emulator enforces, as the live service does per tenant: at most
// Max accepted requests to Endpoint (a template such as "POST /admin/workspaces/getInfo")
// per Per; past it the answer is 429 with Retry-After.
type Quota struct {
	Endpoint string
	Max      int
	Per      time.Duration
}

// DocumentedQuotas are the admin APIs' documented limits (powerbi-rest.md).
func DocumentedQuotas() []Quota {
	return []Quota{
		{"GET /admin/groups", 50, time.Hour},
		{"GET /admin/groups", 15, time.Minute},
		{"POST /admin/workspaces/getInfo", 500, time.Hour},
		{"GET /admin/workspaces/scanStatus/{id}", 10000, time.Hour},
		{"GET /admin/workspaces/scanResult/{id}", 500, time.Hour},
		{"GET /admin/workspaces/modified", 30, time.Hour},
	}
}

// WithQuotas makes the emulator enforce the limits (default none).
func WithQuotas(q ...Quota) Option { return func(s *settings) { s.quotas = append(s.quotas, q...) } }

// Throttled returns how many requests each endpoint answered with 429 for a quota.
func (s *Server) Throttled() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int64{}
	for k, v := range s.throttled {
		out[k] = v
	}
	return out
}

// throttle answers 429 when a request to endpoint would exceed a quota, and counts the
// request against them otherwise. It reports whether it answered.
func (s *Server) throttle(endpoint string, w http.ResponseWriter) bool {
	s.mu.Lock()
	now := time.Now()
	var wait time.Duration
	var binding Quota
	hit := false
	times := s.accepted[endpoint]
	for _, q := range s.quotas {
		if q.Endpoint != endpoint {
			continue
		}
		hit = true
		n := 0
		for _, t := range times {
			if now.Sub(t) < q.Per {
				n++
			}
		}
		if n >= q.Max {
			if d := times[len(times)-q.Max].Add(q.Per).Sub(now); d > wait {
				wait, binding = d, q
			}
		}
	}
	if !hit {
		s.mu.Unlock()
		return false
	}
	if wait <= 0 {
		// Keep only what the longest window still needs.
		keep := 0
		for _, q := range s.quotas {
			if q.Endpoint == endpoint {
				keep = max(keep, q.Max)
			}
		}
		times = append(times, now)
		if len(times) > keep {
			times = times[len(times)-keep:]
		}
		s.accepted[endpoint] = times
		s.mu.Unlock()
		return false
	}
	s.throttled[endpoint]++
	s.mu.Unlock()
	secs := int(wait/time.Second) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeJSON(w, http.StatusTooManyRequests, map[string]string{"message": fmt.Sprintf(
		"You have exceeded the amount of requests allowed in the current time frame (%d per %s) and further requests will fail. Retry in %d seconds.", binding.Max, binding.Per, secs)})
	return true
}
