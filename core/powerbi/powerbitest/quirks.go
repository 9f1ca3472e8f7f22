package powerbitest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Quirks are answers the live service is recorded to give that differ from its
// documentation. Each is off by default; tests, the `emulator` source and `pbisync
// emulate --quirk` turn them on, so the client is tested against every shape the
// service sends. Where each one was recorded is in testdata/QUIRKS.md.
type Quirks struct {
	// RDLPages400: GET reports/{id}/pages of a paginated report answers 400
	// InvalidRequest "Request is currently not supported for RDL reports".
	RDLPages400 bool
	// StatusCasing is "", "upper" or "lower": enumerated values (scan status,
	// refresh status, extended status and type, dataflow transaction status,
	// workspace type and state, report type, endorsement) in that case.
	StatusCasing string
	// PageSize caps GET groups and GET admin/groups pages at this many workspaces,
	// whatever $top asked (0: no cap).
	PageSize int
	// NextLink adds @odata.nextLink to workspace pages that have more after them.
	NextLink bool
	// OddFieldTypes sends numbers as strings where live answers were seen to: a
	// page's order, a tile's rowSpan and colSpan.
	OddFieldTypes bool
	// ServiceExceptionObject sends serviceExceptionJson as a JSON object rather than
	// a string holding JSON, and on every finished entry (empty when it completed).
	ServiceExceptionObject bool
	// OddHistoryEntry puts a refresh-history entry of another shape before the
	// others: no requestId, an id given as a string, unknown fields.
	OddHistoryEntry bool
	// NotFound lists sub-resources that answer 404 PowerBIEntityNotFound for every
	// item: "pages", "tiles", "datasources" (a dataset's) or "report-datasources".
	NotFound []string
	// MalformedWorkspaces are rendered in scan results with "dashboards" as an
	// object instead of a list.
	MalformedWorkspaces []string
	// OmitFromScan are workspaces the scan result leaves out although they were
	// asked for.
	OmitFromScan []string
	// ClockSkew sets the service's clock this far off the local one: refresh times
	// are the service's, so a client mixing them with its own clock gets durations
	// that are off, or negative.
	ClockSkew time.Duration
}

// QuirkNames lists the quirks ParseQuirk knows, as flags take them.
var QuirkNames = []string{"rdl-pages-400", "status-casing=upper|lower", "page-size=N", "next-link", "odd-field-types",
	"service-exception-object", "odd-history-entry", "not-found=pages|tiles|datasources|report-datasources",
	"malformed-workspace=ID", "omit-from-scan=ID", "clock-skew=DURATION"}

// ParseQuirk turns one flag value such as "rdl-pages-400" or "status-casing=upper"
// on in q.
func ParseQuirk(v string, q *Quirks) error {
	name, val, hasVal := strings.Cut(strings.TrimSpace(v), "=")
	need := func() error {
		if !hasVal || val == "" {
			return fmt.Errorf("quirk %q needs a value (%s=...)", v, name)
		}
		return nil
	}
	switch name {
	case "rdl-pages-400":
		q.RDLPages400 = true
	case "status-casing":
		if val != "upper" && val != "lower" {
			return fmt.Errorf("quirk %q: status-casing must be upper or lower", v)
		}
		q.StatusCasing = val
	case "page-size":
		n, err := strconv.Atoi(val)
		if err != nil || n < 1 {
			return fmt.Errorf("quirk %q: page-size must be a positive number", v)
		}
		q.PageSize = n
	case "next-link":
		q.NextLink = true
	case "odd-field-types":
		q.OddFieldTypes = true
	case "service-exception-object":
		q.ServiceExceptionObject = true
	case "odd-history-entry":
		q.OddHistoryEntry = true
	case "not-found":
		if err := need(); err != nil {
			return err
		}
		if !slices.Contains([]string{"pages", "tiles", "datasources", "report-datasources"}, val) {
			return fmt.Errorf("quirk %q: not-found takes pages, tiles, datasources or report-datasources", v)
		}
		q.NotFound = append(q.NotFound, val)
	case "malformed-workspace":
		if err := need(); err != nil {
			return err
		}
		q.MalformedWorkspaces = append(q.MalformedWorkspaces, val)
	case "clock-skew":
		d, err := time.ParseDuration(val)
		if err != nil {
			return fmt.Errorf("quirk %q: clock-skew: %w", v, err)
		}
		q.ClockSkew = d
	case "omit-from-scan":
		if err := need(); err != nil {
			return err
		}
		q.OmitFromScan = append(q.OmitFromScan, val)
	default:
		return fmt.Errorf("unknown quirk %q (known: %s)", v, strings.Join(QuirkNames, ", "))
	}
	return nil
}

// ParseQuirks parses flag values into one Quirks.
func ParseQuirks(values []string) (Quirks, error) {
	var q Quirks
	for _, v := range values {
		if err := ParseQuirk(v, &q); err != nil {
			return Quirks{}, err
		}
	}
	return q, nil
}

// WithQuirks turns quirks on from the start (see SetQuirks).
func WithQuirks(q Quirks) Option { return func(s *settings) { s.quirks = q } }

// SetQuirks replaces the quirks the emulator answers with.
func (s *Server) SetQuirks(q Quirks) {
	s.mu.Lock()
	s.quirks = q
	s.mu.Unlock()
	s.rendered.drop() // after the quirks are set (handleScanResult)
	s.rf.skew.Store(int64(q.ClockSkew))
}

func (s *Server) currentQuirks() Quirks {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.quirks
}

// enum renders an enumerated value in the quirk's casing.
func (q Quirks) enum(v string) string {
	switch q.StatusCasing {
	case "upper":
		return strings.ToUpper(v)
	case "lower":
		return strings.ToLower(v)
	}
	return v
}

func (q Quirks) notFound(what string) bool { return slices.Contains(q.NotFound, what) }
