package translate

import (
	"encoding/json"
	"fmt"
)

// A translator's fingerprint is what decides its output: a change of it means every
// asset must be translated again (the engine stores the chain's fingerprint with its
// incremental sync marks and replays the stored raw snapshots when it changes).

// Fingerprint is the module's sha256, its config (JSON with sorted keys) and its error
// policy.
func (w *WASM) Fingerprint() string {
	return fmt.Sprintf("wasm %q sha256=%s on_error=%s config=%s", w.name, w.SHA256, w.policy, w.config)
}

// Fingerprint is the translation's rules, as JSON, and its error policy. Metadata
// values are taken as their YAML values, not their places in the file.
func (t *noCode) Fingerprint() string {
	type ruleValues struct {
		Rule
		Metadata map[string]any
	}
	vals := make([]ruleValues, len(t.rules))
	for i, r := range t.rules {
		vals[i].Rule = r
		for k, n := range r.Metadata {
			var v any
			if err := n.Decode(&v); err != nil {
				v = err.Error()
			}
			if vals[i].Metadata == nil {
				vals[i].Metadata = map[string]any{}
			}
			vals[i].Metadata[k] = v
		}
	}
	rules, err := json.Marshal(vals)
	if err != nil {
		rules = fmt.Appendf(nil, "%#v", t.rules)
	}
	return fmt.Sprintf("translation %q on_error=%s rules=%s", t.name, t.policy, rules)
}
