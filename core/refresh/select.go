package refresh

import (
	"encoding/json"
	"slices"

	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/sdk/spec"
)

// Enabled reports whether the config selects any model.
func (c *Config) Enabled() bool { return len(c.Select) > 0 }

func (s *Selector) match(r *record.Record) bool {
	sp := &r.Spec
	switch {
	case s.All:
		return true
	case s.Name != "":
		return sp.PowerBI.Name == s.Name
	case s.re != nil:
		return s.re.MatchString(sp.PowerBI.Name)
	case s.ID != "":
		return sp.PowerBI.ID == s.ID
	case len(s.Key) > 0:
		return sp.Key.Equal(s.Key)
	case len(s.Tags) > 0:
		for k, v := range s.Tags {
			if got, ok := sp.Tags[k]; !ok || (v != "" && got != v) {
				return false
			}
		}
		return true
	}
	return false
}

// Selects reports whether the config's selection picks the model of r.
func (c *Config) Selects(r *record.Record) bool {
	for j := range c.Select {
		if c.Select[j].match(r) {
			return true
		}
	}
	return false
}

// Targets picks the semantic models the config selects from a sync's records and gives
// each its body, time-out and the selected models it depends on. A model the service
// marks as not refreshable is left out of `all`, and named in skipped.
func (c *Config) Targets(recs []record.Record) (targets []Target, skipped []string) {
	var picked []*record.Record
	for i := range recs {
		r := &recs[i]
		if r.Spec.PowerBI.Type != spec.SemanticModel {
			continue
		}
		var sel *Selector
		for j := range c.Select {
			if c.Select[j].match(r) {
				sel = &c.Select[j]
				break
			}
		}
		if sel == nil {
			continue
		}
		if sel.All && !refreshable(r.Raw) {
			skipped = append(skipped, r.Spec.PowerBI.Name)
			continue
		}
		picked = append(picked, r)
	}
	return c.TargetsOf(picked), skipped
}

// TargetsOf makes targets of the given model records, whatever the selection says: each
// gets its body and time-out (overrides applied) and the models among them it depends on.
func (c *Config) TargetsOf(picked []*record.Record) (targets []Target) {
	byKey := map[string]string{} // key -> model id
	for _, r := range picked {
		byKey[r.Spec.Key.String()] = r.Spec.PowerBI.ID
	}
	for _, r := range picked {
		t := Target{
			WorkspaceID: r.Spec.PowerBI.WorkspaceID,
			ModelID:     r.Spec.PowerBI.ID,
			Name:        r.Spec.PowerBI.Name,
			Key:         slices.Clone(r.Spec.Key),
			Body:        c.Body,
			Timeout:     c.Timeout,
		}
		for _, o := range c.Overrides {
			if o.Match.match(r) {
				if o.Body != nil {
					t.Body = *o.Body
				}
				if o.Timeout > 0 {
					t.Timeout = o.Timeout
				}
				break
			}
		}
		for _, d := range r.Spec.Deps {
			if id, ok := byKey[d.String()]; ok && id != t.ModelID {
				t.DependsOn = append(t.DependsOn, id)
			}
		}
		t.Dataflows = dataflowsOf(&r.Spec)
		targets = append(targets, t)
	}
	return targets
}

// refreshable reads isRefreshable from the raw properties; absent means refreshable.
func refreshable(raw json.RawMessage) bool {
	var p struct {
		IsRefreshable *bool `json:"isRefreshable"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &p) != nil || p.IsRefreshable == nil {
		return true
	}
	return *p.IsRefreshable
}

// UpstreamDataflowsKey is the metadata entry that lists the dataflows a model reads.
const UpstreamDataflowsKey = "powerbi/upstream_dataflows"

// dataflowsOf reads the dataflows a model reads from its spec's metadata.
func dataflowsOf(s *spec.AssetSpec) []DataflowRef {
	md, ok := s.Metadata[UpstreamDataflowsKey]
	if !ok {
		return nil
	}
	b, err := json.Marshal(md.Value)
	if err != nil {
		return nil
	}
	var refs []DataflowRef
	if json.Unmarshal(b, &refs) != nil {
		return nil
	}
	return refs
}
