// Command go-docs-example is the translator from the dagster-powerbi docs, in Go: it
// puts a configurable prefix in front of every dashboard's key and makes team:my_team
// the dashboards' owner. Every other asset passes unchanged.
package main

import (
	"errors"

	"github.com/pbisync/pbisync/sdk/spec"
	translator "github.com/pbisync/pbisync/sdk/translator/go"
)

type docsExample struct{ prefix string }

func (d *docsExample) Init(c translator.Config) error {
	d.prefix = "prefix"
	if p, ok := c.String("prefix"); ok {
		d.prefix = p
	}
	if d.prefix == "" {
		return errors.New("config: prefix must not be empty")
	}
	return nil
}

func (d *docsExample) Translate(a *translator.Asset) error {
	if a.Type() == spec.Dashboard {
		a.PrefixKey(d.prefix)
		a.SetOwners("team:my_team")
	}
	return nil
}

func init() { translator.Handle(&docsExample{}) }

func main() {}
