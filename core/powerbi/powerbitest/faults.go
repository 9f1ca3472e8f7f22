package powerbitest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FaultKind is what an injected fault does to a request.
type FaultKind string

// The kinds of fault.
const (
	// Throttle answers 429 with Retry-After and the live service's bare message body.
	Throttle FaultKind = "throttle"
	// ServerError answers Status (default 500) with an error envelope.
	ServerError FaultKind = "error"
	// Drop closes the connection without an answer.
	Drop FaultKind = "drop"
	// Redirect answers 307 with a Location to the same resource (as when the service
	// moves a tenant to another cluster); the client must repeat the call with its token.
	Redirect FaultKind = "redirect"
	// Truncate answers 200 and breaks the connection partway through the body.
	Truncate FaultKind = "truncate"
	// Lost carries the call out, then breaks the connection instead of answering: the
	// client cannot tell whether it took effect (a refresh trigger, say).
	Lost FaultKind = "lost"
)

// Fault is an injected failure for the calls to one endpoint.
type Fault struct {
	// Endpoint is an endpoint template such as "GET /groups/{id}/datasets" or
	// "POST /admin/workspaces/getInfo"; "" or "*" matches every API call.
	Endpoint string
	Kind     FaultKind
	// Count is how many calls fail; 0 means every call.
	Count int
	// RetryAfter is the Retry-After of a Throttle fault, rounded up to whole seconds
	// (default 1s).
	RetryAfter time.Duration
	// Status is the status of a ServerError fault (default 500).
	Status int

	hits int
}

// AddFault injects f. Faults apply in the order added; a fault with calls left matches
// first.
func (s *Server) AddFault(f Fault) {
	if f.Endpoint == "*" {
		f.Endpoint = ""
	}
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
}

// ClearFaults removes all injected faults (failed scans and refused admin included).
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.failScans = map[string]bool{}
	s.refuseAdmin = false
	s.mu.Unlock()
}

// SetRefusedAdmin turns the refusal of admin endpoints on or off.
func (s *Server) SetRefusedAdmin(on bool) {
	s.mu.Lock()
	s.refuseAdmin = on
	s.mu.Unlock()
}

// FailScans makes scans that include any of these workspaces fail ("*": all).
func (s *Server) FailScans(workspaceIDs ...string) {
	s.mu.Lock()
	for _, id := range workspaceIDs {
		s.failScans[id] = true
	}
	s.mu.Unlock()
}

// SetScanPolls sets how many scanStatus polls a scan takes to finish.
func (s *Server) SetScanPolls(n int) {
	s.mu.Lock()
	s.scanPolls = n
	s.mu.Unlock()
}

// ParseFault parses a fault from a flag value: "KIND[:COUNT][@ENDPOINT][,retry-after=D][,status=N]",
// e.g. "throttle:3@GET /groups,retry-after=2s" or "drop:1" or "error:2,status=503".
func ParseFault(v string) (Fault, error) {
	head, opts, _ := strings.Cut(v, ",")
	var f Fault
	head, f.Endpoint, _ = strings.Cut(head, "@")
	kind, count, hasCount := strings.Cut(head, ":")
	f.Kind = FaultKind(strings.TrimSpace(kind))
	switch f.Kind {
	case Throttle, ServerError, Drop, Redirect, Truncate, Lost:
	default:
		return Fault{}, fmt.Errorf("fault %q: kind must be throttle, error, drop, redirect, truncate or lost", v)
	}
	if hasCount {
		n, err := strconv.Atoi(count)
		if err != nil || n < 0 {
			return Fault{}, fmt.Errorf("fault %q: count must be a whole number", v)
		}
		f.Count = n
	}
	for opt := range strings.SplitSeq(opts, ",") {
		if opt == "" {
			continue
		}
		k, val, _ := strings.Cut(opt, "=")
		switch k {
		case "retry-after":
			d, err := time.ParseDuration(val)
			if err != nil {
				return Fault{}, fmt.Errorf("fault %q: retry-after: %w", v, err)
			}
			f.RetryAfter = d
		case "status":
			n, err := strconv.Atoi(val)
			if err != nil || n < 400 || n > 599 {
				return Fault{}, fmt.Errorf("fault %q: status must be 400..599", v)
			}
			f.Status = n
		default:
			return Fault{}, fmt.Errorf("fault %q: unknown option %q (want retry-after or status)", v, k)
		}
	}
	return f, nil
}

// takeLost reports whether a Lost fault matches the call, counting it.
func (s *Server) takeLost(endpoint string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.faults {
		if c.Kind == Lost && (c.Endpoint == "" || c.Endpoint == endpoint) && (c.Count == 0 || c.hits < c.Count) {
			c.hits++
			return true
		}
	}
	return false
}

// applyFault answers r with the first matching fault, if any, and reports whether it did.
// Lost faults are applied after the handler ran (see Handle).
func (s *Server) applyFault(endpoint string, w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	var f *Fault
	for _, c := range s.faults {
		if c.Kind != Lost && (c.Endpoint == "" || c.Endpoint == endpoint) && (c.Count == 0 || c.hits < c.Count) {
			c.hits++
			f = c
			break
		}
	}
	var fault Fault
	if f != nil {
		fault = *f
	}
	s.mu.Unlock()
	if f == nil {
		return false
	}
	switch fault.Kind {
	case Throttle:
		secs := int((fault.RetryAfter + time.Second - 1) / time.Second)
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{
			"message": fmt.Sprintf("You have exceeded the amount of requests allowed in the current time frame and further requests will fail. Retry in %d seconds.", secs),
		})
	case Redirect:
		w.Header().Set("Location", s.apiURL+r.URL.RequestURI())
		w.WriteHeader(http.StatusTemporaryRedirect)
	case Truncate:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", "1048576")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"workspaces":[{"id":"`))
		rc := http.NewResponseController(w)
		_ = rc.Flush()
		if conn, _, err := rc.Hijack(); err == nil {
			conn.Close()
		}
	case Drop:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			WriteError(w, http.StatusInternalServerError, "EmulatorDropFailed", err.Error())
			return true
		}
		conn.Close()
	default:
		status := fault.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		WriteError(w, status, "InternalServerError", "An internal error occurred (injected by the emulator)")
	}
	return true
}
