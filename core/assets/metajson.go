package assets

import (
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/sdk/spec/jsonenc"
)

// The builder's largest json metadata values (table lineage, tables, measures) have
// these types, which write their own JSON (jsonenc.Appender): exactly json.Marshal's
// bytes, without its reflection, when the sink protocol encodes them.

// TableLineages is the powerbi/table_lineage value: the model tables with upstream.
type TableLineages []snapshot.TableLineage

// TableInfos is the powerbi/tables value.
type TableInfos []TableInfo

// MeasureInfos is the powerbi/measures value.
type MeasureInfos []MeasureInfo

// AppendJSON appends json.Marshal's bytes for the lineage.
func (l TableLineages) AppendJSON(dst []byte) []byte {
	if l == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i := range l {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendTableLineage(dst, &l[i])
	}
	return append(dst, ']')
}

func appendTableLineage(dst []byte, tl *snapshot.TableLineage) []byte {
	dst = append(dst, `{"table":`...)
	dst = str(dst, tl.Table)
	if len(tl.Upstream) > 0 {
		dst = append(dst, `,"upstream":[`...)
		for i := range tl.Upstream {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '{')
			dst = appendUpstreamFields(dst, &tl.Upstream[i])
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if len(tl.Unresolved) > 0 {
		dst = append(dst, `,"unresolved":`...)
		dst = jsonenc.AppendStrings(dst, tl.Unresolved, true)
	}
	if len(tl.Columns) > 0 {
		dst = append(dst, `,"columns":[`...)
		for i := range tl.Columns {
			c := &tl.Columns[i]
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"column":`...)
			dst = str(dst, c.Column)
			if len(c.Upstream) > 0 {
				dst = append(dst, `,"upstream":[`...)
				for j := range c.Upstream {
					u := &c.Upstream[j]
					if j > 0 {
						dst = append(dst, ',')
					}
					dst = append(dst, '{')
					dst = appendUpstreamFields(dst, &u.UpstreamTable)
					dst = append(dst, `,"column":`...)
					dst = str(dst, u.Column)
					dst = append(dst, '}')
				}
				dst = append(dst, ']')
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// appendUpstreamFields writes an UpstreamTable's fields, without braces (an
// UpstreamColumn embeds them before its column).
func appendUpstreamFields(dst []byte, u *snapshot.UpstreamTable) []byte {
	dst = append(dst, `"platform":`...)
	dst = str(dst, u.Platform)
	dst = optional(dst, `,"server":`, u.Server)
	dst = optional(dst, `,"database":`, u.Database)
	dst = optional(dst, `,"schema":`, u.Schema)
	dst = append(dst, `,"table":`...)
	dst = str(dst, u.Table)
	return optional(dst, `,"unknown":`, u.Unknown)
}

// AppendJSON appends json.Marshal's bytes for the tables.
func (l TableInfos) AppendJSON(dst []byte) []byte {
	if l == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i := range l {
		t := &l[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"name":`...)
		dst = str(dst, t.Name)
		dst = optional(dst, `,"description":`, t.Description)
		if t.Hidden {
			dst = append(dst, `,"hidden":true`...)
		}
		dst = optional(dst, `,"source":`, t.Source)
		dst = append(dst, `,"columns":`...)
		if t.Columns == nil {
			dst = append(dst, "null"...)
		} else {
			dst = append(dst, '[')
			for j := range t.Columns {
				c := &t.Columns[j]
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = append(dst, `{"name":`...)
				dst = str(dst, c.Name)
				dst = optional(dst, `,"dataType":`, c.DataType)
				if c.Hidden {
					dst = append(dst, `,"hidden":true`...)
				}
				dst = append(dst, '}')
			}
			dst = append(dst, ']')
		}
		if len(t.Measures) > 0 {
			dst = append(dst, `,"measures":[`...)
			for j := range t.Measures {
				m := &t.Measures[j]
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = append(dst, `{"name":`...)
				dst = str(dst, m.Name)
				dst = optional(dst, `,"expression":`, m.Expression)
				dst = optional(dst, `,"description":`, m.Description)
				dst = append(dst, '}')
			}
			dst = append(dst, ']')
		}
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// AppendJSON appends json.Marshal's bytes for the measures.
func (l MeasureInfos) AppendJSON(dst []byte) []byte {
	if l == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i := range l {
		m := &l[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"table":`...)
		dst = str(dst, m.Table)
		dst = append(dst, `,"name":`...)
		dst = str(dst, m.Name)
		dst = optional(dst, `,"expression":`, m.Expression)
		dst = optional(dst, `,"description":`, m.Description)
		if len(m.References) > 0 {
			dst = append(dst, `,"references":`...)
			dst = jsonenc.AppendStrings(dst, m.References, true)
		}
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// str appends a string as json.Marshal does (HTML-escaped).
func str(dst []byte, s string) []byte { return jsonenc.AppendString(dst, s, true) }

// optional appends `,"name":value` for an omitempty string that is not empty.
func optional(dst []byte, field, s string) []byte {
	if s == "" {
		return dst
	}
	return str(append(dst, field...), s)
}
