// Package sink is the kit for writing pbisync sinks: the small interface a sink
// implements, Serve to run it as a plugin process, and the protocol's Go form.
//
// A sink plugin is an executable whose main calls Serve:
//
//	func main() { sink.Serve(mysink.New()) }
//
// pbisync starts it through hashicorp/go-plugin, configures it with its section of
// pipeline.yaml, begins a run (a sync, a refresh, or serve's stream), streams it batches
// of events (see package event), commits or aborts the run and closes it. A sink that
// implements Transactional learns the run's kind and end; OpenRunFile gives a file
// output the run's guarantees (a sync replaces the file only when it commits).
// The wire protocol is sinkpb/sink.proto; sinks in other languages implement it
// with go-plugin's handshake.
package sink

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink/sinkpb"
	"google.golang.org/grpc"
)

// Sink is what a sink implements. The kit calls Configure once, WriteBatch for each
// batch in order, and Close at the end; never concurrently. Sinks that implement
// Transactional also get Begin, Commit and Abort around each run's batches.
type Sink interface {
	// Configure validates the config and prepares the sink. Errors about a config
	// value should be *ConfigError (Config.Decode returns them), so pbisync can name
	// the YAML line.
	Configure(ctx context.Context, cfg Config) error
	// WriteBatch handles one batch. When it returns nil the batch is acknowledged and
	// will not be sent again, so the events must be written (not only buffered).
	// An error fails the stream: pbisync restarts the sink and sends the batch again.
	WriteBatch(ctx context.Context, events []event.Event) error
	// Close flushes and releases everything.
	Close(ctx context.Context) error
}

// RawJSONMetadata is implemented by a sink that takes the value of each json metadata
// entry as the bytes pbisync encoded (a json.RawMessage) instead of decoded Go values
// ([]any, map[string]any, json.Number); they are not checked to be valid JSON here, as
// encoding/json checks them when it writes them. A sink that writes the values out as JSON
// (jsonl) saves decoding and encoding them again: for a model with a thousand columns,
// most of its work. Other sinks keep decoded values.
type RawJSONMetadata interface {
	RawJSONMetadata()
}

// ProtocolVersion is the sink protocol version this kit speaks.
const ProtocolVersion = 1

// PluginName is the name of the sink service within a plugin.
const PluginName = "sink"

// Handshake is the go-plugin handshake of pbisync sinks. A process started without it
// is not started by pbisync, and Serve says so and exits.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "PBISYNC_SINK_PLUGIN",
	MagicCookieValue: "b1d5c0a4-pbisync-sink-plugin",
}

// Environment variables the host sets for a plugin started by pbisync.
const (
	// EnvLifelineFD names a file descriptor that reaches end of file when the host
	// dies; the plugin exits then, so no plugin outlives pbisync.
	EnvLifelineFD = "PBISYNC_SINK_LIFELINE_FD"
	// EnvStdoutFD names a file descriptor that is pbisync's standard output.
	EnvStdoutFD = "PBISYNC_SINK_STDOUT_FD"
)

// MaxMessageBytes bounds one protocol message (a batch) in both directions.
const MaxMessageBytes = 64 << 20

// GRPCPlugin is the go-plugin plugin of the sink service: on the plugin side it serves
// Impl, on the host side it returns a sinkpb.SinkClient.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Sink
	// Service, when set, is served instead of Impl.
	Service sinkpb.SinkServer
}

// GRPCServer registers the sink service.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	srv := p.Service
	if srv == nil {
		srv = NewServer(p.Impl, nil, nil)
	}
	sinkpb.RegisterSinkServer(s, srv)
	return nil
}

// GRPCClient returns a sinkpb.SinkClient.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return sinkpb.NewSinkClient(c), nil
}

// PluginSets returns the versioned plugin sets for go-plugin's client and server.
func PluginSets(p *GRPCPlugin) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{ProtocolVersion: {PluginName: p}}
}
