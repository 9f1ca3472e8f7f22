package sink

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink/sinkpb"
	"github.com/pbisync/pbisync/sdk/spec"
	"github.com/pbisync/pbisync/sdk/spec/jsonenc"
)

// EventToProto converts an event to its protocol form. It fails on an event whose
// pointer does not match its kind, or a json metadata value that does not encode.
func EventToProto(e *event.Event) (*sinkpb.Event, error) {
	switch e.Kind {
	case event.KindSpec:
		if e.Spec == nil {
			return nil, fmt.Errorf("spec event without a spec")
		}
		s, err := specToProto(e.Spec)
		if err != nil {
			return nil, fmt.Errorf("asset %s: %w", e.Spec.Key, err)
		}
		return withRelated(&sinkpb.Event{Kind: &sinkpb.Event_Spec{Spec: s}}, e.Related), nil
	case event.KindRemoved:
		if e.Removed == nil {
			return nil, fmt.Errorf("removed event without its asset")
		}
		return &sinkpb.Event{Kind: &sinkpb.Event_Removed{Removed: &sinkpb.Removed{
			Key: keyToProto(e.Removed.Key), Powerbi: identityToProto(e.Removed.PowerBI),
		}}}, nil
	case event.KindRefresh:
		if e.Refresh == nil {
			return nil, fmt.Errorf("refresh event without its refresh")
		}
		r := e.Refresh
		p := &sinkpb.Refresh{
			RequestId: r.RequestID, State: string(r.State), Model: identityToProto(r.Model),
			RefreshType: r.RefreshType, Enhanced: r.Enhanced, Error: r.Error,
			RequestedAtUnixNano: unixNano(r.RequestedAt), StartedAtUnixNano: unixNano(r.StartedAt),
			EndedAtUnixNano: unixNano(r.EndedAt),
		}
		if r.Key != nil {
			p.Key = keyToProto(r.Key)
		}
		for _, t := range r.Tables {
			p.Tables = append(p.Tables, &sinkpb.TableRefresh{Table: t.Table, Partition: t.Partition, Status: t.Status})
		}
		if r.ModelSpec != nil {
			ms, err := specToProto(r.ModelSpec)
			if err != nil {
				return nil, fmt.Errorf("refresh %s: model spec: %w", r.RequestID, err)
			}
			p.ModelSpec = ms
		}
		return withRelated(&sinkpb.Event{Kind: &sinkpb.Event_Refresh{Refresh: p}}, e.Related), nil
	case event.KindSummary:
		if e.Summary == nil {
			return nil, fmt.Errorf("summary event without its summary")
		}
		s := e.Summary
		p := &sinkpb.Summary{
			StartedAtUnixNano: unixNano(s.StartedAt), EndedAtUnixNano: unixNano(s.EndedAt),
			Workspaces: int64(s.Workspaces), Dropped: int64(s.Dropped), Removed: int64(s.Removed),
			Problems: s.Problems, Requests: s.Requests,
		}
		if len(s.Assets) > 0 {
			p.Assets = make(map[string]int64, len(s.Assets))
			for k, v := range s.Assets {
				p.Assets[k] = int64(v)
			}
		}
		return &sinkpb.Event{Kind: &sinkpb.Event_Summary{Summary: p}}, nil
	}
	return nil, fmt.Errorf("unknown event kind %q", e.Kind)
}

func withRelated(p *sinkpb.Event, rel []event.Related) *sinkpb.Event {
	if len(rel) == 0 {
		return p
	}
	p.Related = make([]*sinkpb.Related, len(rel))
	for i, r := range rel {
		p.Related[i] = &sinkpb.Related{Key: keyToProto(r.Key), Powerbi: identityToProto(r.PowerBI), WebUrl: r.WebURL, Tables: r.Tables, TableNames: r.TableNames}
	}
	return p
}

func relatedFromProto(p []*sinkpb.Related) []event.Related {
	if len(p) == 0 {
		return nil
	}
	out := make([]event.Related, len(p))
	for i, r := range p {
		out[i] = event.Related{Key: keyFromProto(r.GetKey()), PowerBI: identityFromProto(r.GetPowerbi()), WebURL: r.GetWebUrl(), Tables: r.GetTables(), TableNames: r.GetTableNames()}
	}
	return out
}

// EventToProtoShared is EventToProto made once per event and shared by every output
// that asks (event.Shared); the message it returns is shared too, so it must not be
// changed. An event without Shared is converted anew.
func EventToProtoShared(e *event.Event) (*sinkpb.Event, error) {
	if e.Shared == nil {
		return EventToProto(e)
	}
	v, err := e.Shared.Get(func() (any, error) { return EventToProto(e) })
	if err != nil {
		return nil, err
	}
	return v.(*sinkpb.Event), nil
}

// EventFromProto converts an event from its protocol form.
func EventFromProto(p *sinkpb.Event) (event.Event, error) { return eventFrom(p, false) }

// EventFromProtoRawJSON is EventFromProto for a sink that takes json metadata values as
// the bytes the host encoded (see RawJSONMetadata): each is a json.RawMessage.
func EventFromProtoRawJSON(p *sinkpb.Event) (event.Event, error) { return eventFrom(p, true) }

func eventFrom(p *sinkpb.Event, rawJSON bool) (event.Event, error) {
	e, err := eventFromProto(p, rawJSON)
	if err == nil {
		e.Related = relatedFromProto(p.GetRelated())
	}
	return e, err
}

func eventFromProto(p *sinkpb.Event, rawJSON bool) (event.Event, error) {
	switch k := p.GetKind().(type) {
	case *sinkpb.Event_Spec:
		s, err := specFromProto(k.Spec, rawJSON)
		if err != nil {
			return event.Event{}, err
		}
		return event.Event{Kind: event.KindSpec, Spec: s}, nil
	case *sinkpb.Event_Removed:
		return event.Event{Kind: event.KindRemoved, Removed: &event.Removed{
			Key: keyFromProto(k.Removed.GetKey()), PowerBI: identityFromProto(k.Removed.GetPowerbi()),
		}}, nil
	case *sinkpb.Event_Refresh:
		r := k.Refresh
		out := &event.Refresh{
			RequestID: r.GetRequestId(), State: event.RefreshState(r.GetState()),
			Model: identityFromProto(r.GetModel()), RefreshType: r.GetRefreshType(),
			Enhanced: r.GetEnhanced(), Error: r.GetError(),
			RequestedAt: fromUnixNano(r.GetRequestedAtUnixNano()), StartedAt: fromUnixNano(r.GetStartedAtUnixNano()),
			EndedAt: fromUnixNano(r.GetEndedAtUnixNano()),
		}
		if r.Key != nil {
			out.Key = keyFromProto(r.Key)
		}
		for _, t := range r.GetTables() {
			out.Tables = append(out.Tables, event.TableRefresh{Table: t.GetTable(), Partition: t.GetPartition(), Status: t.GetStatus()})
		}
		if r.ModelSpec != nil {
			ms, err := specFromProto(r.ModelSpec, rawJSON)
			if err != nil {
				return event.Event{}, fmt.Errorf("refresh %s: model spec: %w", r.GetRequestId(), err)
			}
			out.ModelSpec = ms
		}
		return event.Event{Kind: event.KindRefresh, Refresh: out}, nil
	case *sinkpb.Event_Summary:
		s := k.Summary
		out := &event.Summary{
			StartedAt: fromUnixNano(s.GetStartedAtUnixNano()), EndedAt: fromUnixNano(s.GetEndedAtUnixNano()),
			Workspaces: int(s.GetWorkspaces()), Dropped: int(s.GetDropped()), Removed: int(s.GetRemoved()),
			Problems: s.GetProblems(), Requests: s.GetRequests(),
		}
		if len(s.GetAssets()) > 0 {
			out.Assets = make(map[string]int, len(s.Assets))
			for k, v := range s.Assets {
				out.Assets[k] = int(v)
			}
		}
		return event.Event{Kind: event.KindSummary, Summary: out}, nil
	}
	return event.Event{}, fmt.Errorf("event of unknown kind %T (a newer protocol?)", p.GetKind())
}

func specToProto(s *spec.AssetSpec) (*sinkpb.AssetSpec, error) {
	p := &sinkpb.AssetSpec{
		Key: keyToProto(s.Key), Description: s.Description, Tags: s.Tags,
		Kinds: s.Kinds, Owners: s.Owners, Group: s.Group, Powerbi: identityToProto(s.PowerBI),
	}
	if len(s.Deps) > 0 {
		p.Deps = make([]*sinkpb.Key, len(s.Deps))
		for i, d := range s.Deps {
			p.Deps[i] = keyToProto(d)
		}
	}
	if len(s.Metadata) > 0 {
		p.Metadata = make(map[string]*sinkpb.Metadata, len(s.Metadata))
		for name, m := range s.Metadata {
			pm, err := metadataToProto(m)
			if err != nil {
				return nil, fmt.Errorf("metadata %q: %w", name, err)
			}
			p.Metadata[name] = pm
		}
	}
	return p, nil
}

func specFromProto(p *sinkpb.AssetSpec, rawJSON bool) (*spec.AssetSpec, error) {
	s := &spec.AssetSpec{
		Key: keyFromProto(p.GetKey()), Description: p.GetDescription(), Tags: p.GetTags(),
		Kinds: p.GetKinds(), Owners: p.GetOwners(), Group: p.GetGroup(), PowerBI: identityFromProto(p.GetPowerbi()),
	}
	if len(p.GetDeps()) > 0 {
		s.Deps = make([]spec.Key, len(p.Deps))
		for i, d := range p.Deps {
			s.Deps[i] = keyFromProto(d)
		}
	}
	if len(p.GetMetadata()) > 0 {
		s.Metadata = make(map[string]spec.Metadata, len(p.Metadata))
		for name, pm := range p.Metadata {
			m, err := metadataFromProto(pm, rawJSON)
			if err != nil {
				return nil, fmt.Errorf("asset %s: metadata %q: %w", s.Key, name, err)
			}
			s.Metadata[name] = m
		}
	}
	return s, nil
}

func metadataToProto(m spec.Metadata) (*sinkpb.Metadata, error) {
	switch m.Type {
	case spec.TypeText:
		if s, ok := m.Value.(string); ok {
			return &sinkpb.Metadata{Value: &sinkpb.Metadata_Text{Text: s}}, nil
		}
	case spec.TypeURL:
		if s, ok := m.Value.(string); ok {
			return &sinkpb.Metadata{Value: &sinkpb.Metadata_Url{Url: s}}, nil
		}
	case spec.TypeInt:
		if n, ok := intValue(m.Value); ok {
			return &sinkpb.Metadata{Value: &sinkpb.Metadata_Int{Int: n}}, nil
		}
	case spec.TypeFloat:
		if f, ok := floatValue(m.Value); ok {
			return &sinkpb.Metadata{Value: &sinkpb.Metadata_Float{Float: f}}, nil
		}
	case spec.TypeBool:
		if b, ok := m.Value.(bool); ok {
			return &sinkpb.Metadata{Value: &sinkpb.Metadata_Bool{Bool: b}}, nil
		}
	case spec.TypeJSON:
		b, err := jsonenc.Marshal(m.Value)
		if err != nil {
			return nil, fmt.Errorf("json value: %w", err)
		}
		return &sinkpb.Metadata{Value: &sinkpb.Metadata_Json{Json: b}}, nil
	case spec.TypeTableSchema:
		if t, ok := m.Value.(spec.TableSchema); ok {
			// One allocation for the columns, not one per column: a large tenant's
			// models have a million.
			cols := make([]sinkpb.TableColumn, len(t.Columns))
			pt := &sinkpb.TableSchema{Columns: make([]*sinkpb.TableColumn, len(t.Columns))}
			for i, c := range t.Columns {
				pc := &cols[i]
				pc.Name, pc.Type, pc.Description = c.Name, c.Type, c.Description
				pt.Columns[i] = pc
			}
			return &sinkpb.Metadata{Value: &sinkpb.Metadata_TableSchema{TableSchema: pt}}, nil
		}
	default:
		return nil, fmt.Errorf("unknown metadata type %q", m.Type)
	}
	return nil, fmt.Errorf("%s value of Go type %T", m.Type, m.Value)
}

// intValue is an int metadata value as the protocol carries it, from the Go types it
// may have.
func intValue(v any) (int64, bool) {
	switch v := v.(type) {
	case int:
		return int64(v), true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	case float64:
		return int64(v), true
	}
	return 0, false
}

// floatValue is a float metadata value as the protocol carries it.
func floatValue(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	}
	return 0, false
}

func metadataFromProto(p *sinkpb.Metadata, rawJSON bool) (spec.Metadata, error) {
	switch v := p.GetValue().(type) {
	case *sinkpb.Metadata_Text:
		return spec.Text(v.Text), nil
	case *sinkpb.Metadata_Url:
		return spec.URL(v.Url), nil
	case *sinkpb.Metadata_Int:
		return spec.Int(v.Int), nil
	case *sinkpb.Metadata_Float:
		return spec.Float(v.Float), nil
	case *sinkpb.Metadata_Bool:
		return spec.Bool(v.Bool), nil
	case *sinkpb.Metadata_Json:
		return jsonMetadata(v.Json, rawJSON)
	case *sinkpb.Metadata_TableSchema:
		t := spec.TableSchema{Columns: make([]spec.TableColumn, len(v.TableSchema.GetColumns()))}
		for i, c := range v.TableSchema.GetColumns() {
			t.Columns[i] = spec.TableColumn{Name: c.GetName(), Type: c.GetType(), Description: c.GetDescription()}
		}
		return spec.Schema(t), nil
	}
	return spec.Metadata{}, fmt.Errorf("metadata without a value")
}

// jsonMetadata is a json metadata value from its encoding: the bytes themselves for a
// sink that takes them (RawJSONMetadata), else decoded with json.Number for numbers.
func jsonMetadata(b []byte, rawJSON bool) (spec.Metadata, error) {
	if rawJSON {
		// Not checked here: encoding/json checks it as it writes it (json.Marshal of a
		// json.RawMessage fails on invalid JSON), and checking twice cost the jsonl
		// sink a fifth of its work.
		return spec.JSON(json.RawMessage(b)), nil
	}
	var x any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&x); err != nil {
		return spec.Metadata{}, fmt.Errorf("json value: %w", err)
	}
	return spec.JSON(x), nil
}

func keyToProto(k spec.Key) *sinkpb.Key { return &sinkpb.Key{Parts: k} }

func keyFromProto(p *sinkpb.Key) spec.Key { return spec.Key(p.GetParts()) }

func identityToProto(id spec.Identity) *sinkpb.Identity {
	return &sinkpb.Identity{Type: string(id.Type), Id: id.ID, Name: id.Name, WorkspaceId: id.WorkspaceID, WorkspaceName: id.WorkspaceName}
}

func identityFromProto(p *sinkpb.Identity) spec.Identity {
	return spec.Identity{Type: spec.ContentType(p.GetType()), ID: p.GetId(), Name: p.GetName(), WorkspaceID: p.GetWorkspaceId(), WorkspaceName: p.GetWorkspaceName()}
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
