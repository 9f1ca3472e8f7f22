package translate

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"gopkg.in/yaml.v3"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/sdk/spec"
)

// Rule is one no-code translation: when Match fits an asset, its attributes are applied.
// Key, group, owners, description and deps replace; tags, kinds and metadata merge, as in
// dagster's component `translation`. Text values are Go templates over the asset
// ({{.Name}}, {{.ID}}, {{.Type}}, {{.Workspace.Name}}, {{.Key}}, {{.Raw.someProperty}}).
type Rule struct {
	Match Match `yaml:"match"`
	// Key replaces the key: a template whose result is split on "/".
	Key string `yaml:"key"`
	// KeyPrefix is put in front of the key (a string or a list of parts).
	KeyPrefix   StringList           `yaml:"key_prefix"`
	Group       *string              `yaml:"group"`
	Owners      []string             `yaml:"owners"`
	Tags        map[string]string    `yaml:"tags"`
	Kinds       []string             `yaml:"kinds"`
	Metadata    map[string]yaml.Node `yaml:"metadata"`
	Description *string              `yaml:"description"`
	// Deps replaces the dependencies: each a key written as parts joined by "/".
	Deps []string `yaml:"deps"`
	// Drop removes the matching assets from the pipeline.
	Drop bool `yaml:"drop"`

	name, workspace *regexp.Regexp
	tmpl            map[string]*template.Template
	meta            map[string]spec.Metadata
	metaTmpl        map[string]bool // text metadata that is a template
}

// Match selects assets. Every given condition must hold; an empty Match takes all.
type Match struct {
	Type      StringList `yaml:"type"`      // content types
	Name      string     `yaml:"name"`      // regular expression searched in the Power BI name
	Workspace string     `yaml:"workspace"` // regular expression searched in the workspace name
}

// StringList is a YAML string or list of strings.
type StringList []string

// UnmarshalYAML accepts a scalar or a sequence of scalars.
func (s *StringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*s = StringList{n.Value}
		return nil
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		*s = l
		return nil
	}
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: want a string or a list of strings", n.Line)}}
}

func (r *Rule) compile(n config.Node) error {
	var err error
	if r.Match.Name != "" {
		if r.name, err = regexp.Compile(r.Match.Name); err != nil {
			return config.Errorf(n.Child("match").Child("name"), "bad regular expression: %v", err)
		}
	}
	if r.Match.Workspace != "" {
		if r.workspace, err = regexp.Compile(r.Match.Workspace); err != nil {
			return config.Errorf(n.Child("match").Child("workspace"), "bad regular expression: %v", err)
		}
	}
	r.tmpl = map[string]*template.Template{}
	add := func(id, text string, at config.Node) error {
		if !strings.Contains(text, "{{") {
			return nil
		}
		t, err := template.New(id).Option("missingkey=error").Parse(text)
		if err != nil {
			return config.Errorf(at, "bad template: %v", err)
		}
		r.tmpl[id] = t
		return nil
	}
	if err := add("key", r.Key, n.Child("key")); err != nil {
		return err
	}
	for i, p := range r.KeyPrefix {
		if err := add(fmt.Sprint("key_prefix.", i), p, n.Child("key_prefix")); err != nil {
			return err
		}
	}
	if r.Group != nil {
		if err := add("group", *r.Group, n.Child("group")); err != nil {
			return err
		}
	}
	if r.Description != nil {
		if err := add("description", *r.Description, n.Child("description")); err != nil {
			return err
		}
	}
	for i, o := range r.Owners {
		if err := add(fmt.Sprint("owners.", i), o, n.Child("owners")); err != nil {
			return err
		}
	}
	for k, v := range r.Tags {
		if k == "" {
			return config.Errorf(n.Child("tags"), "tag with an empty name")
		}
		if err := add("tags."+k, v, n.Child("tags")); err != nil {
			return err
		}
	}
	for _, d := range r.Deps {
		if err := spec.Key(strings.Split(d, "/")).Validate(); err != nil {
			return config.Errorf(n.Child("deps"), "dep %q: %v", d, err)
		}
	}
	r.meta, r.metaTmpl = map[string]spec.Metadata{}, map[string]bool{}
	for k, v := range r.Metadata {
		at := config.Node{Node: &v, File: n.File}
		m, err := metadataValue(&v)
		if err != nil {
			return config.Errorf(at, "metadata %q: %v", k, err)
		}
		if err := m.Validate(); err != nil {
			return config.Errorf(at, "metadata %q: %v", k, err)
		}
		r.meta[k] = m
		if s, ok := m.Value.(string); ok && m.Type == spec.TypeText {
			if err := add("metadata."+k, s, at); err != nil {
				return err
			}
			r.metaTmpl[k] = r.tmpl["metadata."+k] != nil
		}
	}
	return nil
}

// metadataValue reads a YAML metadata value: a string is text, whole numbers int,
// other numbers float, true/false bool, {type, value} typed, anything else json.
func metadataValue(n *yaml.Node) (spec.Metadata, error) {
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!str":
			return spec.Text(n.Value), nil
		case "!!int":
			var i int64
			err := n.Decode(&i)
			return spec.Int(i), err
		case "!!float":
			var f float64
			err := n.Decode(&f)
			return spec.Float(f), err
		case "!!bool":
			var b bool
			err := n.Decode(&b)
			return spec.Bool(b), err
		}
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return spec.Metadata{}, err
	}
	j, err := json.Marshal(v)
	if err != nil {
		return spec.Metadata{}, fmt.Errorf("cannot be expressed as JSON: %w", err)
	}
	if m, ok := v.(map[string]any); ok && len(m) == 2 && m["type"] != nil && m["value"] != nil {
		var typed spec.Metadata
		if err := json.Unmarshal(j, &typed); err != nil {
			return spec.Metadata{}, err
		}
		return typed, nil
	}
	var jv any
	_ = json.Unmarshal(j, &jv)
	return spec.JSON(jv), nil
}

func (r *Rule) matches(rec *record.Record) bool {
	if len(r.Match.Type) > 0 && !slices.Contains(r.Match.Type, string(rec.Spec.PowerBI.Type)) {
		return false
	}
	if r.name != nil && !r.name.MatchString(rec.Spec.PowerBI.Name) {
		return false
	}
	return r.workspace == nil || r.workspace.MatchString(rec.Workspace.Name)
}

// tmplData is what templates see.
type tmplData struct {
	rec *record.Record
	s   *spec.AssetSpec
	raw map[string]any
}

func (d *tmplData) Name() string                { return d.rec.Spec.PowerBI.Name }
func (d *tmplData) ID() string                  { return d.rec.Spec.PowerBI.ID }
func (d *tmplData) Type() string                { return string(d.rec.Spec.PowerBI.Type) }
func (d *tmplData) Workspace() record.Workspace { return d.rec.Workspace }
func (d *tmplData) Key() string                 { return d.s.Key.String() }
func (d *tmplData) Group() string               { return d.s.Group }

// Raw is the asset's raw Power BI properties, parsed on first use.
func (d *tmplData) Raw() map[string]any {
	if d.raw == nil {
		d.raw = map[string]any{}
		_ = json.Unmarshal(d.rec.Raw, &d.raw)
	}
	return d.raw
}

func (r *Rule) text(id, v string, d *tmplData) (string, error) {
	t := r.tmpl[id]
	if t == nil {
		return v, nil
	}
	var sb strings.Builder
	if err := t.Execute(&sb, d); err != nil {
		return "", fmt.Errorf("template %s: %w", id, err)
	}
	return sb.String(), nil
}

// apply edits s (already a copy) for rec.
func (r *Rule) apply(rec *record.Record, s *spec.AssetSpec) error {
	d := &tmplData{rec: rec, s: s}
	if r.Key != "" {
		k, err := r.text("key", r.Key, d)
		if err != nil {
			return err
		}
		s.Key = strings.Split(k, "/")
	}
	if len(r.KeyPrefix) > 0 {
		prefix := make(spec.Key, 0, len(r.KeyPrefix)+len(s.Key))
		for i, p := range r.KeyPrefix {
			v, err := r.text(fmt.Sprint("key_prefix.", i), p, d)
			if err != nil {
				return err
			}
			prefix = append(prefix, v)
		}
		s.Key = append(prefix, s.Key...)
	}
	if r.Group != nil {
		g, err := r.text("group", *r.Group, d)
		if err != nil {
			return err
		}
		s.Group = g
	}
	if r.Description != nil {
		v, err := r.text("description", *r.Description, d)
		if err != nil {
			return err
		}
		s.Description = v
	}
	if r.Owners != nil {
		owners := make([]string, 0, len(r.Owners))
		for i, o := range r.Owners {
			v, err := r.text(fmt.Sprint("owners.", i), o, d)
			if err != nil {
				return err
			}
			owners = append(owners, v)
		}
		s.Owners = owners
	}
	if r.Deps != nil {
		s.Deps = make([]spec.Key, len(r.Deps))
		for i, dep := range r.Deps {
			s.Deps[i] = strings.Split(dep, "/")
		}
	}
	if len(r.Tags) > 0 && s.Tags == nil {
		s.Tags = map[string]string{}
	}
	for _, k := range slices.Sorted(maps.Keys(r.Tags)) {
		v, err := r.text("tags."+k, r.Tags[k], d)
		if err != nil {
			return err
		}
		s.Tags[k] = v
	}
	for _, k := range r.Kinds {
		if !slices.Contains(s.Kinds, k) {
			s.Kinds = append(s.Kinds, k)
		}
	}
	if len(r.meta) > 0 && s.Metadata == nil {
		s.Metadata = map[string]spec.Metadata{}
	}
	for _, k := range slices.Sorted(maps.Keys(r.meta)) {
		m := r.meta[k]
		if r.metaTmpl[k] {
			v, err := r.text("metadata."+k, m.Value.(string), d)
			if err != nil {
				return err
			}
			m = spec.Text(v)
		}
		s.Metadata[k] = m
	}
	return nil
}

// noCode runs an entry's translation rules.
type noCode struct {
	name   string
	policy Policy
	rules  []Rule
}

func newNoCode(e *Entry) *noCode {
	return &noCode{name: e.Name, policy: e.policy(), rules: e.Translation}
}

func (t *noCode) Name() string { return t.name }

func (t *noCode) Close(context.Context) error { return nil }

// Translate applies every matching rule, in order, to each asset.
func (t *noCode) Translate(_ context.Context, recs []record.Record) ([]record.Record, []record.Problem, error) {
	res := make([]result, len(recs))
	for i := range recs {
		res[i] = t.one(&recs[i])
	}
	return applyPolicy(t.name, t.policy, recs, res, nil)
}

func (t *noCode) one(rec *record.Record) result {
	var s *spec.AssetSpec
	for i := range t.rules {
		r := &t.rules[i]
		if !r.matches(rec) {
			continue
		}
		if r.Drop {
			return result{outcome: outDrop}
		}
		if s == nil {
			c := rec.Spec.Clone()
			s = &c
		}
		if err := r.apply(rec, s); err != nil {
			return result{outcome: outFail, err: fmt.Errorf("translation rule %d: %w", i+1, err)}
		}
	}
	if s != nil {
		if err := s.Validate(); err != nil {
			return result{outcome: outFail, err: fmt.Errorf("the translation produced an invalid spec: %w", err)}
		}
	}
	return result{spec: s}
}
