// Command pbisync-sink-jsonl is the JSON Lines sink as a standalone plugin. pbisync
// runs the same sink built in (`jsonl:` in outputs); this binary shows the shape of a
// sink plugin and can be listed under `plugin:` like any external one.
package main

import (
	"github.com/pbisync/pbisync/plugins/sinks/jsonl"
	"github.com/pbisync/pbisync/sdk/sink"
)

func main() { sink.Serve(jsonl.NewRaw()) }
