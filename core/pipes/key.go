package pipes

import "strings"

// EscapeKey joins an asset key's parts the way Dagster's AssetKey.to_escaped_user_string
// does: a backslash in a part becomes `\\`, a slash `\/`, and parts are joined with `/`.
func EscapeKey(parts []string) string {
	esc := make([]string, len(parts))
	for i, p := range parts {
		esc[i] = strings.NewReplacer(`\`, `\\`, `/`, `\/`).Replace(p)
	}
	return strings.Join(esc, "/")
}

// SplitKey is the inverse of EscapeKey, as Dagster's to_asset_key_path reads a key.
func SplitKey(key string) []string {
	var parts []string
	var cur strings.Builder
	escaped := false
	for _, r := range key {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped = true
		case r == '/':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		parts = append(parts, cur.String())
	}
	return parts
}
