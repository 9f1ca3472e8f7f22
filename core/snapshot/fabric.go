package snapshot

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Fabric item types, as the scanner names them.
const (
	ItemLakehouse   = "Lakehouse"
	ItemWarehouse   = "Warehouse"
	ItemSQLEndpoint = "SQLAnalyticsEndpoint"
)

// Dataflow types: Dataflow.Type is empty for a Gen1 dataflow.
const (
	DataflowGen2 = "Gen2"
	Datamart     = "Datamart"
)

// FabricItem is a Microsoft Fabric Lakehouse, Warehouse or SQL analytics endpoint.
type FabricItem struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Type             string `json:"type"` // Lakehouse, Warehouse, SQLAnalyticsEndpoint
	Description      string `json:"description,omitempty"`
	ConfiguredBy     string `json:"configuredBy,omitempty"`
	ModifiedDateTime string `json:"modifiedDateTime,omitempty"`
	// SQLEndpoint is the host of the item's SQL endpoint (its TDS endpoint), where
	// the service gives it.
	SQLEndpoint string `json:"sqlEndpoint,omitempty"`
	// ParentID is, for a SQL analytics endpoint, the lakehouse it serves.
	ParentID string `json:"parentId,omitempty"`
	// Tables are the item's tables, where known (schema-qualified for a
	// lakehouse with schemas).
	Tables []FabricTable   `json:"tables,omitempty"`
	Raw    json.RawMessage `json:"raw,omitempty"`
}

// FabricTable is a table of a Lakehouse or Warehouse.
type FabricTable struct {
	Schema string `json:"schema,omitempty"`
	Name   string `json:"name"`
}

// EntitySource is a table partition that reads an entity of a shared expression
// (TMSL `"type": "entity"`), as Direct Lake models do: the expression names the
// Lakehouse or Warehouse, SchemaName and EntityName the table in it.
type EntitySource struct {
	ExpressionSource string `json:"expressionSource"`
	SchemaName       string `json:"schemaName,omitempty"`
	EntityName       string `json:"entityName"`
}

// wireFabricItem is a Fabric item as the scanner sends it.
type wireFabricItem struct {
	ID                 string            `json:"id"`
	Name               string            `json:"name"`
	Description        string            `json:"description"`
	CreatedBy          string            `json:"createdBy"`
	ConfiguredBy       string            `json:"configuredBy"`
	LastUpdatedDate    string            `json:"lastUpdatedDate"`
	ModifiedDateTime   string            `json:"modifiedDateTime"`
	ExtendedProperties map[string]any    `json:"extendedProperties"`
	Relations          []wireRelation    `json:"relations"`
	Tables             []wireFabricTable `json:"tables"`
}

type wireRelation struct {
	DependentOnArtifactID string `json:"dependentOnArtifactId"`
}

type wireFabricTable struct {
	Schema string `json:"schema"`
	Name   string `json:"name"`
}

// wireFabricItems are the Fabric item lists of a scanResult workspace. The
// scanner names them in the singular ("Lakehouse", "SQLAnalyticsEndpoint") and
// some answers in the plural; encoding/json matches either case.
type wireFabricItems struct {
	Lakehouse            []json.RawMessage `json:"Lakehouse"`
	Lakehouses           []json.RawMessage `json:"Lakehouses"`
	Warehouse            []json.RawMessage `json:"Warehouse"`
	Warehouses           []json.RawMessage `json:"Warehouses"`
	SQLAnalyticsEndpoint []json.RawMessage `json:"SQLAnalyticsEndpoint"`
	SQLEndpoints         []json.RawMessage `json:"SQLAnalyticsEndpoints"`
	Datamarts            []json.RawMessage `json:"datamarts"`
}

// decodeFabricItems decodes a workspace's Fabric items and datamarts; each
// malformed item is an error naming it, the others are kept.
func decodeFabricItems(w wireFabricItems, wsName, wsID string) ([]FabricItem, []Dataflow, []error) {
	var items []FabricItem
	var errs []error
	add := func(kind string, raws []json.RawMessage) {
		for i, raw := range raws {
			it, err := decodeFabricItem(raw, kind)
			if err != nil {
				errs = append(errs, fmt.Errorf("workspace %s (%s): %s[%d]%s: %w", quoteName(wsName), wsID, kind, i, itemID(raw), describeJSONError(err)))
				continue
			}
			items = append(items, it)
		}
	}
	add(ItemLakehouse, append(w.Lakehouse, w.Lakehouses...))
	add(ItemWarehouse, append(w.Warehouse, w.Warehouses...))
	add(ItemSQLEndpoint, append(w.SQLAnalyticsEndpoint, w.SQLEndpoints...))
	var marts []Dataflow
	for i, raw := range w.Datamarts {
		d, err := decodeDataflow(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("workspace %s (%s): datamarts[%d]%s: %w", quoteName(wsName), wsID, i, itemID(raw), describeJSONError(err)))
			continue
		}
		d.Type = Datamart
		marts = append(marts, d)
	}
	return items, marts, errs
}

func decodeFabricItem(raw json.RawMessage, kind string) (FabricItem, error) {
	var w wireFabricItem
	if err := json.Unmarshal(raw, &w); err != nil {
		return FabricItem{}, err
	}
	it := FabricItem{ID: w.ID, Name: w.Name, Type: kind, Description: w.Description,
		ConfiguredBy: w.ConfiguredBy, ModifiedDateTime: w.ModifiedDateTime, Raw: raw}
	if it.ConfiguredBy == "" {
		it.ConfiguredBy = w.CreatedBy
	}
	if it.ModifiedDateTime == "" {
		it.ModifiedDateTime = w.LastUpdatedDate
	}
	it.SQLEndpoint = tdsEndpoint(w.ExtendedProperties)
	for _, r := range w.Relations {
		if r.DependentOnArtifactID != "" {
			it.ParentID = r.DependentOnArtifactID
			break
		}
	}
	for _, t := range w.Tables {
		if t.Name != "" {
			it.Tables = append(it.Tables, FabricTable{Schema: t.Schema, Name: t.Name})
		}
	}
	return it, nil
}

// tdsEndpoint finds the SQL endpoint host in an item's extendedProperties: a
// `DwProperties` JSON string (or object) with `tdsEndpoint`, or a top-level
// `SqlEndpoint`/`tdsEndpoint`/`connectionString`.
func tdsEndpoint(props map[string]any) string {
	for k, v := range props {
		switch strings.ToLower(k) {
		case "tdsendpoint", "sqlendpoint", "connectionstring":
			if s, ok := v.(string); ok && s != "" {
				return s
			}
		case "dwproperties":
			var inner map[string]any
			switch x := v.(type) {
			case string:
				if json.Unmarshal([]byte(x), &inner) != nil {
					continue
				}
			case map[string]any:
				inner = x
			}
			if s := tdsEndpoint(inner); s != "" {
				return s
			}
		}
	}
	return ""
}
