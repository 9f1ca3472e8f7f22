// Command pbisync-sink-sqlite is the SQLite catalog sink as a standalone plugin.
package main

import (
	"github.com/pbisync/pbisync/plugins/sinks/sqlite"
	"github.com/pbisync/pbisync/sdk/sink"
)

func main() { sink.Serve(sqlite.New()) }
