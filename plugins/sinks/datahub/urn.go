package datahub

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"unicode/utf16"
)

// Platform is DataHub's platform name for Power BI.
const Platform = "powerbi"

// platformURN returns urn:li:dataPlatform:<name>.
func platformURN(name string) string { return "urn:li:dataPlatform:" + name }

// namer builds URNs the way DataHub's own Power BI source does, so entities that
// pbisync writes and those of a DataHub Power BI ingestion are the same entities.
type namer struct {
	env         string
	instance    string
	lowercase   bool
	workspaceID bool // workspace id instead of name in the container key
}

func (n namer) name(s string) string {
	if n.lowercase {
		return strings.ToLower(s)
	}
	return s
}

// withInstance prefixes a name with the platform instance, as DataHub does.
func (n namer) withInstance(s string) string {
	if n.instance == "" {
		return s
	}
	return n.instance + "." + s
}

// tableURN names a semantic model table: dataset "<model>.<table>", spaces as "_".
func (n namer) tableURN(model, table string) string {
	full := strings.ReplaceAll(model, " ", "_") + "." + strings.ReplaceAll(table, " ", "_")
	return datasetURN(Platform, n.name(n.withInstance(full)), n.env)
}

func datasetURN(platform, name, env string) string {
	return "urn:li:dataset:(" + platformURN(platform) + "," + name + "," + env + ")"
}

func (n namer) dashboardURN(part string) string {
	return "urn:li:dashboard:(" + Platform + "," + n.withInstance(part) + ")"
}

func (n namer) chartURN(part string) string {
	return "urn:li:chart:(" + Platform + "," + n.withInstance(part) + ")"
}

// reportURN: DataHub models a report as a dashboard named reports.<id>.
func (n namer) reportURN(id string) string { return n.dashboardURN("reports." + id) }

func (n namer) powerbiDashboardURN(id string) string { return n.dashboardURN("dashboards." + id) }

func (n namer) tileURN(id string) string { return n.chartURN("charts." + id) }

func (n namer) pageURN(reportID, pageName string) string {
	return n.chartURN("pages." + reportID + "." + strings.ReplaceAll(pageName, " ", "_"))
}

// workspaceContainerURN follows DataHub's container keys: the md5 of the key's fields
// as compact JSON with sorted keys.
func (n namer) workspaceContainerURN(wsID, wsName string) (string, map[string]string) {
	key := map[string]string{"platform": Platform, "workspace": wsName}
	if n.workspaceID {
		key["workspace"] = wsID
	}
	if n.instance != "" {
		key["instance"] = n.instance
	}
	return "urn:li:container:" + guid(key), key
}

// modelContainerURN is the container DataHub makes for a semantic model (its
// extract_datasets_to_containers option): the tables are its children. Its key, as
// DataHub's DatasetKey, holds the platform instance when there is one.
func (n namer) modelContainerURN(modelID string) (string, map[string]string) {
	key := map[string]string{"platform": Platform, "dataset": modelID}
	if n.instance != "" {
		key["instance"] = n.instance
	}
	return "urn:li:container:" + guid(key), key
}

func guid(key map[string]string) string {
	names := make([]string, 0, len(key))
	for k := range key {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		pyString(&b, k)
		b.WriteByte(':')
		pyString(&b, key[k])
	}
	b.WriteByte('}')
	sum := md5.Sum([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// tagURN turns a pbisync tag into a DataHub tag: "name" or "name:value".
func tagURN(name, value string) string {
	if value == "" {
		return "urn:li:tag:" + name
	}
	return "urn:li:tag:" + name + ":" + value
}

// pyString writes s as Python's json.dumps does by default (ASCII only, lower-case
// \u escapes), so the md5 of a container key matches DataHub's.
func pyString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (r > 0x7f && r <= 0xffff):
			fmt.Fprintf(b, `\u%04x`, r)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// schemaFieldURN names a column of a dataset.
func schemaFieldURN(datasetURN, field string) string {
	return "urn:li:schemaField:(" + datasetURN + "," + field + ")"
}
