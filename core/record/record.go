// Package record defines the unit that flows through a pipeline: an asset's spec with the
// raw Power BI properties and workspace it came from, and the problems met on the way.
package record

import (
	"encoding/json"

	"github.com/pbisync/pbisync/sdk/spec"
)

// Workspace is what a translator and a sink learn about an asset's workspace.
type Workspace struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
}

// Record is one asset on its way through the pipeline: its current spec, the raw
// Power BI properties it was built from, and its workspace.
type Record struct {
	Spec      spec.AssetSpec
	Raw       json.RawMessage
	Workspace Workspace
	// Refs are the Power BI assets the record refers to (its deps, and the ids its
	// metadata names, such as a dashboard's tiles' reports and models), as the builder
	// found them. The engine resolves them into the related assets of the record's
	// event; translators neither see nor keep them.
	Refs []Ref
}

// Ref names a Power BI asset by type and id; an empty Type means any asset with the id
// (Power BI and Fabric ids are unique across types).
type Ref struct {
	Type spec.ContentType
	ID   string
}

// Problem is a per-asset failure that did not stop the sync: a translator error under
// a skip or keep_default policy, an unresolved dependency, a duplicate key.
type Problem struct {
	Stage string        // "build", "translator <name>", "keys", ...
	Asset spec.Identity // the asset concerned, if any
	Err   error
	// Warning marks what is worth saying but is not wrong: a dependency outside the
	// synced workspaces, say. Warnings do not make a command exit with status 3.
	Warning bool
}

func (p Problem) Error() string {
	if p.Asset.ID == "" {
		return p.Stage + ": " + p.Err.Error()
	}
	return p.Stage + ": " + p.Asset.String() + ": " + p.Err.Error()
}
