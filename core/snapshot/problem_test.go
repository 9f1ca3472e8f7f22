package snapshot

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestScopeOf(t *testing.T) {
	tests := []struct {
		name     string
		problems []error
		want     []string
		unknown  bool
		warnings int
	}{
		{name: "none"},
		{name: "incomplete workspaces, joined and wrapped",
			problems: []error{errors.Join(Incomplete("w1", errors.New("a")), fmt.Errorf("batch: %w", Incomplete("w2", errors.New("b"))))},
			want:     []string{"w1", "w2"}},
		{name: "data sources only", problems: []error{Incomplete("", errors.New("a"))}},
		{name: "gone is evidence", problems: []error{&GoneError{WorkspaceID: "w1", Err: errors.New("404")}}, warnings: 1},
		{name: "a warning still protects", problems: []error{&IncompleteError{WorkspaceID: "w3", Warning: true, Err: errors.New("left out")}}, want: []string{"w3"}, warnings: 1},
		{name: "unknown extent", problems: []error{errors.New("something")}, unknown: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := ScopeOf(tt.problems)
			if sc.Unknown != tt.unknown || len(sc.Workspaces) != len(tt.want) {
				t.Fatalf("scope %+v, want workspaces %v unknown %v", sc, tt.want, tt.unknown)
			}
			for _, w := range tt.want {
				if !sc.Workspaces[w] {
					t.Errorf("workspace %s not in scope %+v", w, sc)
				}
			}
			n := 0
			for _, p := range tt.problems {
				for _, e := range Problems(p) {
					if IsWarning(e) {
						n++
					}
				}
			}
			if n != tt.warnings {
				t.Errorf("%d warnings, want %d", n, tt.warnings)
			}
		})
	}
}

// A malformed workspace is an IncompleteError naming it, so a sync keeps its assets.
func TestDecodeScanResultMalformedWorkspaceScope(t *testing.T) {
	doc := `{"workspaces":[{"id":"w1","name":"Odd","dashboards":"none"},{"id":"w2","reports":[{"id":"r","name":{"x":1}}]}]}`
	s, err := DecodeScanResult(strings.NewReader(doc))
	if s == nil || len(s.Workspaces) != 2 {
		t.Fatalf("snapshot %+v: %v", s, err)
	}
	sc := ScopeOf([]error{err})
	if sc.Unknown || !sc.Workspaces["w1"] || !sc.Workspaces["w2"] {
		t.Errorf("scope %+v of %v", sc, err)
	}
	// A workspace that cannot even be named leaves the extent unknown.
	s, err = DecodeScanResult(strings.NewReader(`{"workspaces":["odd",{"id":"w2"}]}`))
	if s == nil || len(s.Workspaces) != 1 || !ScopeOf([]error{err}).Unknown {
		t.Errorf("snapshot %+v, error %v", s, err)
	}
}
