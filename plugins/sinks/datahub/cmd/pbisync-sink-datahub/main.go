// Command pbisync-sink-datahub is the DataHub sink as a standalone plugin.
package main

import (
	"github.com/pbisync/pbisync/plugins/sinks/datahub"
	"github.com/pbisync/pbisync/sdk/sink"
)

func main() { sink.Serve(datahub.New()) }
