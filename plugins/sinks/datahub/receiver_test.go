package datahub

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// gms is a test DataHub GMS: a real HTTP server on 127.0.0.1 that checks every request
// against the ingestProposal wire format and the aspect schemas, and keeps the
// accepted proposals.
type gms struct {
	t      *testing.T
	token  string
	srv    *httptest.Server
	mu     sync.Mutex
	got    map[string]map[string]map[string]any // urn -> aspect -> value
	order  []string
	errs   []string
	status int // when set, answer with it
}

func newGMS(t *testing.T, token string) *gms {
	g := &gms{t: t, token: token, got: map[string]map[string]map[string]any{}}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gms) fail(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	g.mu.Lock()
	g.errs = append(g.errs, msg)
	g.mu.Unlock()
	http.Error(w, msg, http.StatusBadRequest)
}

func (g *gms) serve(w http.ResponseWriter, r *http.Request) {
	if g.status != 0 {
		http.Error(w, "injected failure", g.status)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/aspects" || r.URL.RawQuery != "action=ingestProposal" {
		g.fail(w, "want POST /aspects?action=ingestProposal, got %s %s", r.Method, r.URL)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		g.fail(w, "Content-Type %q", ct)
		return
	}
	if v := r.Header.Get("X-RestLi-Protocol-Version"); v != "2.0.0" {
		g.fail(w, "X-RestLi-Protocol-Version %q", v)
		return
	}
	if a := r.Header.Get("Authorization"); a != "Bearer "+g.token {
		g.fail(w, "Authorization %q", a)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil || len(req) != 1 || req["proposal"] == nil {
		g.fail(w, "body must be {\"proposal\": {...}}: %s", body)
		return
	}
	var p struct {
		EntityType string `json:"entityType"`
		EntityURN  string `json:"entityUrn"`
		ChangeType string `json:"changeType"`
		AspectName string `json:"aspectName"`
		Aspect     struct {
			Value       string `json:"value"`
			ContentType string `json:"contentType"`
		} `json:"aspect"`
	}
	dec := json.NewDecoder(strings.NewReader(string(req["proposal"])))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		g.fail(w, "proposal: %v", err)
		return
	}
	if p.ChangeType != "UPSERT" || p.Aspect.ContentType != "application/json" {
		g.fail(w, "changeType %q contentType %q", p.ChangeType, p.Aspect.ContentType)
		return
	}
	var aspect map[string]any
	if err := json.Unmarshal([]byte(p.Aspect.Value), &aspect); err != nil {
		g.fail(w, "aspect value is not a JSON object string: %v", err)
		return
	}
	if err := checkProposal(p.EntityType, p.EntityURN, p.AspectName, aspect); err != nil {
		g.fail(w, "%s %s: %v", p.EntityURN, p.AspectName, err)
		return
	}
	g.mu.Lock()
	if g.got[p.EntityURN] == nil {
		g.got[p.EntityURN] = map[string]map[string]any{}
		g.order = append(g.order, p.EntityURN)
	}
	g.got[p.EntityURN][p.AspectName] = aspect
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"value":"`+p.EntityURN+`"}`)
}

var urnPatterns = map[string]*regexp.Regexp{
	"dataset":   regexp.MustCompile(`^urn:li:dataset:\(urn:li:dataPlatform:[a-z0-9_-]+,[^,()]+,(PROD|DEV|QA|TEST|STG|UAT|EI|NON_PROD|CORP|PRE|SIT|SBX|RVW|PRD|TST|SANDBOX)\)$`),
	"dashboard": regexp.MustCompile(`^urn:li:dashboard:\(powerbi,([^,()]+\.)?(reports|dashboards)\.[^,()]+\)$`),
	"chart":     regexp.MustCompile(`^urn:li:chart:\(powerbi,([^,()]+\.)?(charts|pages)\.[^,()]+\)$`),
	"container": regexp.MustCompile(`^urn:li:container:[0-9a-f]{32}$`),
}

// aspectsOf lists the aspects each entity type accepts (DataHub's entity registry).
var aspectsOf = map[string][]string{
	"dataset":   {"datasetProperties", "schemaMetadata", "upstreamLineage", "ownership", "globalTags", "status", "container", "subTypes", "dataPlatformInstance", "viewProperties", "browsePathsV2"},
	"dashboard": {"dashboardInfo", "ownership", "globalTags", "status", "container", "subTypes", "dataPlatformInstance", "browsePathsV2", "dashboardKey"},
	"chart":     {"chartInfo", "ownership", "globalTags", "status", "container", "subTypes", "dataPlatformInstance", "browsePathsV2", "chartKey"},
	"container": {"containerProperties", "ownership", "globalTags", "status", "container", "subTypes", "dataPlatformInstance"},
}

// field is one field of an aspect's PDL record: its JSON kind and whether it is required.
type field struct {
	kind     string // string, bool, int, map, list, record, urn, auditStamp, changeAuditStamps, union
	required bool
	item     map[string]field // for records and lists of records
	itemKind string           // for lists of scalars
}

var (
	stamp      = map[string]field{"time": {kind: "int", required: true}, "actor": {kind: "urn", required: true}}
	edge       = map[string]field{"destinationUrn": {kind: "urn", required: true}}
	schemaType = field{kind: "union"}
	aspectPDL  = map[string]map[string]field{
		"status":               {"removed": {kind: "bool", required: true}},
		"container":            {"container": {kind: "urn", required: true}},
		"subTypes":             {"typeNames": {kind: "list", itemKind: "string", required: true}},
		"dataPlatformInstance": {"platform": {kind: "urn", required: true}, "instance": {kind: "urn"}},
		"globalTags":           {"tags": {kind: "list", required: true, item: map[string]field{"tag": {kind: "urn", required: true}}}},
		"ownership": {
			"owners":       {kind: "list", required: true, item: map[string]field{"owner": {kind: "urn", required: true}, "type": {kind: "string", required: true}}},
			"lastModified": {kind: "record", item: stamp},
		},
		"containerProperties": {"name": {kind: "string", required: true}, "description": {kind: "string"}, "customProperties": {kind: "map"}, "externalUrl": {kind: "string"}, "env": {kind: "string"}},
		"viewProperties":      {"materialized": {kind: "bool", required: true}, "viewLogic": {kind: "string", required: true}, "viewLanguage": {kind: "string", required: true}},
		"browsePathsV2":       {"path": {kind: "list", required: true, item: map[string]field{"id": {kind: "string", required: true}, "urn": {kind: "urn"}}}},
		"dashboardKey":        {"dashboardTool": {kind: "string", required: true}, "dashboardId": {kind: "string", required: true}},
		"chartKey":            {"dashboardTool": {kind: "string", required: true}, "chartId": {kind: "string", required: true}},
		"datasetProperties":   {"name": {kind: "string"}, "description": {kind: "string"}, "customProperties": {kind: "map"}, "externalUrl": {kind: "string"}, "qualifiedName": {kind: "string"}},
		"schemaMetadata": {
			"schemaName": {kind: "string", required: true}, "platform": {kind: "urn", required: true}, "version": {kind: "int", required: true},
			"hash": {kind: "string", required: true}, "platformSchema": {kind: "union", required: true},
			"fields": {kind: "list", required: true, item: map[string]field{
				"fieldPath": {kind: "string", required: true}, "nativeDataType": {kind: "string", required: true},
				"type":     {kind: "record", required: true, item: map[string]field{"type": schemaType}},
				"nullable": {kind: "bool"}, "recursive": {kind: "bool"}, "isPartOfKey": {kind: "bool"}, "description": {kind: "string"},
			}},
		},
		"upstreamLineage": {"upstreams": {kind: "list", required: true, item: map[string]field{
			"dataset": {kind: "urn", required: true}, "type": {kind: "string", required: true}, "auditStamp": {kind: "record", required: true, item: stamp}}},
			"fineGrainedLineages": {kind: "list", item: map[string]field{
				"upstreamType": {kind: "fieldSetType", required: true}, "upstreams": {kind: "list", itemKind: "schemaField"},
				"downstreamType": {kind: "fieldType", required: true}, "downstreams": {kind: "list", itemKind: "schemaField"},
				"confidenceScore": {kind: "number"}}}},
		"dashboardInfo": {
			"title": {kind: "string", required: true}, "description": {kind: "string", required: true},
			"lastModified": {kind: "record", required: true, item: map[string]field{"created": {kind: "record", required: true, item: stamp}, "lastModified": {kind: "record", required: true, item: stamp}}},
			"charts":       {kind: "list", itemKind: "urn"}, "dashboardUrl": {kind: "string"}, "customProperties": {kind: "map"},
			"datasetEdges": {kind: "list", item: edge}, "dashboards": {kind: "list", item: edge},
		},
		"chartInfo": {
			"title": {kind: "string", required: true}, "description": {kind: "string", required: true},
			"lastModified": {kind: "record", required: true, item: map[string]field{"created": {kind: "record", required: true, item: stamp}, "lastModified": {kind: "record", required: true, item: stamp}}},
			"inputs":       {kind: "list", item: map[string]field{"string": {kind: "urn", required: true}}}, "externalUrl": {kind: "string"}, "customProperties": {kind: "map"},
		},
	}
)

func checkProposal(entityType, urn, aspectName string, aspect map[string]any) error {
	re, ok := urnPatterns[entityType]
	if !ok {
		return fmt.Errorf("unexpected entity type %q", entityType)
	}
	if !re.MatchString(urn) {
		return fmt.Errorf("urn does not match %s", re)
	}
	allowed := false
	for _, a := range aspectsOf[entityType] {
		allowed = allowed || a == aspectName
	}
	if !allowed {
		return fmt.Errorf("aspect %q is not an aspect of %s", aspectName, entityType)
	}
	return checkRecord(aspect, aspectPDL[aspectName], aspectName)
}

func checkRecord(v map[string]any, fields map[string]field, at string) error {
	for name, f := range fields {
		if _, ok := v[name]; !ok && f.required {
			return fmt.Errorf("%s: missing required %s", at, name)
		}
	}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f, ok := fields[k]
		if !ok {
			return fmt.Errorf("%s: unknown field %q", at, k)
		}
		if err := checkValue(v[k], f, at+"."+k); err != nil {
			return err
		}
	}
	return nil
}

func checkValue(x any, f field, at string) error {
	switch f.kind {
	case "string":
		if _, ok := x.(string); !ok {
			return fmt.Errorf("%s: want a string, got %T", at, x)
		}
	case "urn":
		s, ok := x.(string)
		if !ok || !strings.HasPrefix(s, "urn:li:") {
			return fmt.Errorf("%s: want an urn, got %v", at, x)
		}
	case "bool":
		if _, ok := x.(bool); !ok {
			return fmt.Errorf("%s: want a bool, got %T", at, x)
		}
	case "number":
		if _, ok := x.(float64); !ok {
			return fmt.Errorf("%s: want a number, got %v", at, x)
		}
	case "fieldSetType":
		if x != "FIELD_SET" && x != "DATASET" && x != "NONE" {
			return fmt.Errorf("%s: want FIELD_SET, DATASET or NONE, got %v", at, x)
		}
	case "fieldType":
		if x != "FIELD" && x != "FIELD_SET" {
			return fmt.Errorf("%s: want FIELD or FIELD_SET, got %v", at, x)
		}
	case "schemaField":
		s, ok := x.(string)
		if !ok || !strings.HasPrefix(s, "urn:li:schemaField:(urn:li:dataset:(") || !strings.HasSuffix(s, ")") {
			return fmt.Errorf("%s: want a schemaField urn, got %v", at, x)
		}
	case "int":
		n, ok := x.(float64)
		if !ok || n != float64(int64(n)) {
			return fmt.Errorf("%s: want an integer, got %v", at, x)
		}
	case "map":
		m, ok := x.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want a map, got %T", at, x)
		}
		for k, v := range m {
			if _, ok := v.(string); !ok {
				return fmt.Errorf("%s.%s: map values are strings, got %T", at, k, v)
			}
		}
	case "record":
		m, ok := x.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want a record, got %T", at, x)
		}
		return checkRecord(m, f.item, at)
	case "union":
		// A Rest.li union: one member, keyed by its fully qualified type name.
		m, ok := x.(map[string]any)
		if !ok || len(m) != 1 {
			return fmt.Errorf("%s: want a union with one member, got %v", at, x)
		}
		for k := range m {
			if !strings.HasPrefix(k, "com.linkedin.schema.") {
				return fmt.Errorf("%s: union member %q is not a com.linkedin.schema type", at, k)
			}
		}
	case "list":
		l, ok := x.([]any)
		if !ok {
			return fmt.Errorf("%s: want a list, got %T", at, x)
		}
		for i, it := range l {
			var err error
			if f.item != nil {
				m, ok := it.(map[string]any)
				if !ok {
					return fmt.Errorf("%s[%d]: want a record", at, i)
				}
				err = checkRecord(m, f.item, fmt.Sprintf("%s[%d]", at, i))
			} else {
				err = checkValue(it, field{kind: f.itemKind}, fmt.Sprintf("%s[%d]", at, i))
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}
