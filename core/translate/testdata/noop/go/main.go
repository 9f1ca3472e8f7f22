// Command noop keeps every asset unchanged: the host overhead of the Go kit.
package main

import translator "github.com/pbisync/pbisync/sdk/translator/go"

func init() {
	translator.Handle(translator.Func(func(*translator.Asset) error { return nil }))
}

func main() {}
