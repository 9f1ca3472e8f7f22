package config

import (
	"log/slog"

	"gopkg.in/yaml.v3"
)

// Secret holds a credential from the pipeline. It prints, logs and marshals as
// "[redacted]"; only Reveal gives the value, at the point of use.
type Secret struct{ v string }

// NewSecret wraps a value.
func NewSecret(v string) Secret { return Secret{v: v} }

// Reveal returns the secret value.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == "" }

const redacted = "[redacted]"

func (s Secret) String() string   { return redacted }
func (s Secret) GoString() string { return redacted }

// LogValue keeps the value out of slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON keeps the value out of JSON output.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalYAML keeps the value out of YAML output.
func (s Secret) MarshalYAML() (any, error) { return redacted, nil }

// UnmarshalYAML reads a scalar.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{"a secret must be a string"}}
	}
	s.v = n.Value
	return nil
}
