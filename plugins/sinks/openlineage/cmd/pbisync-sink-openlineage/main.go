// Command pbisync-sink-openlineage is the OpenLineage sink as a standalone plugin.
package main

import (
	"github.com/pbisync/pbisync/plugins/sinks/openlineage"
	"github.com/pbisync/pbisync/sdk/sink"
)

func main() { sink.Serve(openlineage.New()) }
