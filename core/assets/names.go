package assets

import (
	"regexp"
	"strings"

	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/sdk/spec"
)

// Clean makes a string usable as one asset key part the way dagster-powerbi does:
// every run of characters outside [A-Za-z0-9_] becomes a single "_"; case is kept.
func Clean(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	inRun := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			b.WriteByte(c)
			inRun = false
			continue
		}
		// Bytes of a multi-byte rune are all outside the class, so a run of
		// non-ASCII runes collapses to one "_" just as it does per character.
		if !inRun {
			b.WriteByte('_')
			inRun = true
		}
	}
	return b.String()
}

// fileSuffixes are the file extensions Power BI names a dashboard after when it is
// created from an uploaded file. Only these are cut: dagster-powerbi cuts anything
// after the last dot, so "v1.2 Ops" lost its ".2 Ops".
var fileSuffixes = []string{
	".pbix", ".pbit", ".pbip", ".pbids", ".rdl",
	".xlsx", ".xlsm", ".xlsb", ".xls", ".csv",
}

// CutFileSuffix removes one known Power BI or Excel file extension (any case) from
// the end of name, and nothing else.
func CutFileSuffix(name string) string {
	for _, suf := range fileSuffixes {
		if len(name) > len(suf) && strings.EqualFold(name[len(name)-len(suf):], suf) {
			return name[:len(name)-len(suf)]
		}
	}
	return name
}

// FileSuffixes returns the file extensions CutFileSuffix removes.
func FileSuffixes() []string { return append([]string(nil), fileSuffixes...) }

// emailPattern is the address shape Dagster accepts as an asset owner.
var emailPattern = regexp.MustCompile(`^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$`)

// ValidOwner reports whether Dagster would accept s as an asset owner: an email
// address or a "team:" name.
func ValidOwner(s string) bool {
	if strings.HasPrefix(s, "team:") {
		return len(s) > len("team:")
	}
	return emailPattern.MatchString(s)
}

// unquote decodes %XX escapes like Python's urllib.parse.unquote: an invalid escape is
// kept as it is, and "+" stays "+".
func unquote(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// lastPathComponent returns the last part of a path or URL split on "/" and "\".
// Trailing separators are ignored, so "https://host/site/list/" gives "list"
// (dagster-powerbi gives an empty name there).
func lastPathComponent(p string) string {
	p = strings.TrimRight(p, `/\`)
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// DataSourceName returns the name a data source's key is made from, following
// dagster-powerbi: the last path component of the url-unquoted connection path,
// else url, else database; else the data source id. fromID says the id was used.
func DataSourceName(ds *snapshot.DataSource) (name string, fromID bool) {
	if cd := ds.ConnectionDetails; cd != nil {
		for _, v := range [...]string{cd.Path, cd.URL, cd.Database} {
			if v == "" {
				continue
			}
			// A path of only separators names nothing: try the next field.
			if n := lastPathComponent(unquote(v)); n != "" {
				return n, false
			}
		}
	}
	return ds.ID, true
}

// DataSourceKey returns the default key of a data source: one part, the cleaned
// DataSourceName. It is nil when the data source has neither a usable connection
// name nor an id.
func DataSourceKey(ds *snapshot.DataSource) spec.Key {
	if n, _ := DataSourceName(ds); n != "" {
		return spec.Key{Clean(n)}
	}
	return nil
}
