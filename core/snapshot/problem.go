package snapshot

import (
	"errors"
	"fmt"
	"strings"
)

// IncompleteError is a problem that left part of a workspace unread: a malformed item,
// a sub-resource the service refused (a report's pages, a dashboard's tiles, a
// dataset's data sources), a workspace missing from a scan result. What is missing is
// no evidence that it is gone, so a sync must not report the workspace's unseen assets
// as removed. WorkspaceID is empty when only data sources may be missing.
type IncompleteError struct {
	WorkspaceID string
	// Warning marks a gap worth saying that is not an error (a workspace the scanner
	// left out of its result, say): it does not make a sync exit with status 3.
	Warning bool
	Err     error
}

func (e *IncompleteError) Error() string { return e.Err.Error() }
func (e *IncompleteError) Unwrap() error { return e.Err }

// Incomplete wraps err as an IncompleteError of workspace id.
func Incomplete(workspaceID string, err error) error {
	return &IncompleteError{WorkspaceID: workspaceID, Err: err}
}

// GoneError says a workspace was deleted while it was read (the service answered 404
// for the workspace itself): positive evidence that its assets are gone.
type GoneError struct {
	WorkspaceID string
	Err         error
}

func (e *GoneError) Error() string { return e.Err.Error() }
func (e *GoneError) Unwrap() error { return e.Err }

// Problems flattens joined errors into their parts, so each can be told apart.
func Problems(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, Problems(e)...)
		}
		return out
	}
	return []error{err}
}

// Scope says what a source problem leaves unread, for deciding which removals still
// have evidence: the workspaces concerned, whether data sources may be missing (every
// problem may hide some), and whether the problem's extent is unknown (then nothing
// unseen can be called removed).
type Scope struct {
	Workspaces map[string]bool
	Unknown    bool
}

// ScopeOf returns the scope of a list of source problems.
func ScopeOf(problems []error) Scope {
	sc := Scope{Workspaces: map[string]bool{}}
	for _, p := range problems {
		for _, e := range Problems(p) {
			var inc *IncompleteError
			var gone *GoneError
			switch {
			case errors.As(e, &inc):
				if inc.WorkspaceID != "" {
					sc.Workspaces[strings.ToLower(inc.WorkspaceID)] = true // ids come in either case
				}
			case errors.As(e, &gone):
				// Positive evidence: removals stand.
			default:
				sc.Unknown = true
			}
		}
	}
	return sc
}

// IsWarning reports whether a source problem is a warning rather than an error: a
// workspace deleted while it was read, or a gap the service itself leaves.
func IsWarning(err error) bool {
	var inc *IncompleteError
	var gone *GoneError
	if errors.As(err, &gone) {
		return true
	}
	return errors.As(err, &inc) && inc.Warning
}

// Has reports whether workspace id is in the scope.
func (s Scope) Has(id string) bool { return s.Workspaces[strings.ToLower(id)] }

// String names the scope, for logs.
func (s Scope) String() string {
	if s.Unknown {
		return "unknown"
	}
	return fmt.Sprintf("%d workspaces", len(s.Workspaces))
}
