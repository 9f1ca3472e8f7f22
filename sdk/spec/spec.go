// Package spec defines pbisync's asset spec: the record that leaves the engine for every
// Power BI asset, goes through translators and reaches the sinks.
//
// The JSON form is documented in docs/spec-format.md. This package is pure data: it
// imports nothing from pbisync's core, so translator kits and sink plugins can use it.
package spec

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// ContentType names the kind of Power BI asset a spec describes.
type ContentType string

// The content types pbisync builds specs for. Translators must accept unknown types:
// later snapshot versions may add more.
const (
	SemanticModel ContentType = "semantic_model"
	DataSource    ContentType = "data_source"
	Report        ContentType = "report"
	Dashboard     ContentType = "dashboard"
	// Dataflow is a Power BI dataflow (Gen1 or Gen2), Datamart a datamart.
	Dataflow ContentType = "dataflow"
	Datamart ContentType = "datamart"
	// Lakehouse, Warehouse and SQLEndpoint are Microsoft Fabric items.
	Lakehouse   ContentType = "lakehouse"
	Warehouse   ContentType = "warehouse"
	SQLEndpoint ContentType = "sql_endpoint"
)

// ContentTypes lists the built-in content types in the order specs are built.
var ContentTypes = []ContentType{DataSource, SemanticModel, Report, Dashboard}

// Key is an asset key: a non-empty path of non-empty strings.
type Key []string

// String renders the key as its parts joined by "/".
func (k Key) String() string { return strings.Join(k, "/") }

// Equal reports whether two keys have the same parts.
func (k Key) Equal(o Key) bool { return slices.Equal(k, o) }

// Validate reports why the key is not usable, or nil.
func (k Key) Validate() error {
	if len(k) == 0 {
		return fmt.Errorf("key is empty")
	}
	for i, p := range k {
		if p == "" {
			return fmt.Errorf("key %q: part %d is empty", k.String(), i)
		}
	}
	return nil
}

// Identity says which Power BI object a spec stands for. It survives every translator:
// sinks use it to recognise an asset whose key a translator changed.
type Identity struct {
	Type          ContentType `json:"type"`
	ID            string      `json:"id"`
	Name          string      `json:"name,omitempty"`
	WorkspaceID   string      `json:"workspaceId,omitempty"`
	WorkspaceName string      `json:"workspaceName,omitempty"`
}

// String renders the identity for messages, e.g. `report "Sales" (id 1234) in workspace "Finance"`.
func (id Identity) String() string {
	s := fmt.Sprintf("%s %q (id %s)", id.Type, id.Name, id.ID)
	if id.WorkspaceName != "" {
		s += fmt.Sprintf(" in workspace %q", id.WorkspaceName)
	} else if id.WorkspaceID != "" {
		s += fmt.Sprintf(" in workspace %s", id.WorkspaceID)
	}
	return s
}

// AssetSpec is one asset as pbisync describes it to the outside world.
type AssetSpec struct {
	Key         Key                 `json:"key"`
	Deps        []Key               `json:"deps"`
	Description string              `json:"description,omitempty"`
	Metadata    map[string]Metadata `json:"metadata"`
	Tags        map[string]string   `json:"tags"`
	Kinds       []string            `json:"kinds"`
	Owners      []string            `json:"owners"`
	Group       string              `json:"group,omitempty"`
	PowerBI     Identity            `json:"powerbi"`
}

// Validate checks what every sink relies on: a valid key, valid deps and metadata.
func (s *AssetSpec) Validate() error {
	if err := s.Key.Validate(); err != nil {
		return err
	}
	for i, d := range s.Deps {
		if err := d.Validate(); err != nil {
			return fmt.Errorf("dep %d: %w", i, err)
		}
	}
	for name, m := range s.Metadata {
		if name == "" {
			return fmt.Errorf("metadata entry with an empty name")
		}
		if err := m.Validate(); err != nil {
			return fmt.Errorf("metadata %q: %w", name, err)
		}
	}
	for k := range s.Tags {
		if k == "" {
			return fmt.Errorf("tag with an empty name")
		}
	}
	return nil
}

// Clone returns a deep copy, so a translator step can edit a spec without touching its input.
func (s *AssetSpec) Clone() AssetSpec {
	c := *s
	c.Key = slices.Clone(s.Key)
	if s.Deps != nil {
		c.Deps = make([]Key, len(s.Deps))
		for i, d := range s.Deps {
			c.Deps[i] = slices.Clone(d)
		}
	}
	if s.Metadata != nil {
		c.Metadata = make(map[string]Metadata, len(s.Metadata))
		for k, v := range s.Metadata {
			c.Metadata[k] = v // Metadata values are immutable once built
		}
	}
	if s.Tags != nil {
		c.Tags = make(map[string]string, len(s.Tags))
		for k, v := range s.Tags {
			c.Tags[k] = v
		}
	}
	c.Kinds = slices.Clone(s.Kinds)
	c.Owners = slices.Clone(s.Owners)
	return c
}

// MarshalJSON writes nil collections as empty ones, so every output has the same shape.
func (s AssetSpec) MarshalJSON() ([]byte, error) {
	type plain AssetSpec
	return json.Marshal(plain(s.EmptyForNil()))
}

// EmptyForNil returns s with its nil collections (key, deps, metadata, tags, kinds,
// owners) made empty: the shape MarshalJSON writes.
func (s AssetSpec) EmptyForNil() AssetSpec {
	if s.Key == nil {
		s.Key = Key{}
	}
	if s.Deps == nil {
		s.Deps = []Key{}
	}
	if s.Metadata == nil {
		s.Metadata = map[string]Metadata{}
	}
	if s.Tags == nil {
		s.Tags = map[string]string{}
	}
	if s.Kinds == nil {
		s.Kinds = []string{}
	}
	if s.Owners == nil {
		s.Owners = []string{}
	}
	return s
}
