// Command panic panics on every report: the kit must fail that asset and go on.
package main

import (
	"github.com/pbisync/pbisync/sdk/spec"
	translator "github.com/pbisync/pbisync/sdk/translator/go"
)

func init() {
	translator.Handle(translator.Func(func(a *translator.Asset) error {
		if a.Type() == spec.Report {
			var m map[string]int
			m["boom"]++ // assignment to a nil map
		}
		a.SetTag("seen", "yes")
		return nil
	}))
}

func main() {}
