package sink

import (
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// pluginMemoryLimit is a plugin's soft heap limit, unless GOMEMLIMIT sets one.
const pluginMemoryLimit = 160 << 20

// Serve runs s as a plugin of the pbisync process that started it, and returns when
// pbisync ends the plugin. It exits the process when pbisync dies, and refuses to run
// (with a message) when started by hand.
func Serve(s Sink) {
	if os.Getenv("GOGC") == "" {
		// A plugin's live heap is small (a window of batches) and its garbage plentiful:
		// collecting less often saves CPU at little cost in memory.
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// ...and the heap is held near a soft limit, which a live heap this small stays
		// well under: without it, five times a large batch was 300 MB of RSS.
		debug.SetMemoryLimit(pluginMemoryLimit)
	}
	logger := PluginLogger(os.Stderr)
	stdout := io.Writer(os.Stdout)
	if f := inheritedFile(EnvStdoutFD, "pbisync-stdout"); f != nil {
		stdout = f
	}
	if f := inheritedFile(EnvLifelineFD, "pbisync-lifeline"); f != nil {
		go watchLifeline(f, logger)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: PluginSets(&GRPCPlugin{Service: NewServer(s, stdout, logger)}),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, ServerOptions()...)...)
		},
		Logger: hclog.New(&hclog.LoggerOptions{Output: os.Stderr, JSONFormat: true, Level: hclog.Info}),
	})
}

// ServerOptions are the options of a sink's gRPC server: the protocol's message size,
// and the codec that lets the Write stream read batches straight from their bytes.
// Serve uses them; a test harness that serves a sink itself (sinktest) should too.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.MaxRecvMsgSize(MaxMessageBytes), grpc.MaxSendMsgSize(MaxMessageBytes), grpc.ForceServerCodecV2(wireCodec{})}
}

func inheritedFile(env, name string) *os.File {
	v := os.Getenv(env)
	if v == "" {
		return nil
	}
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil
	}
	return os.NewFile(uintptr(fd), name)
}

// watchLifeline exits the process when the host's end of the lifeline closes: the host
// died (even by SIGKILL), so nobody will ever end this plugin otherwise.
func watchLifeline(f *os.File, logger *slog.Logger) {
	_, _ = io.Copy(io.Discard, f)
	logger.Warn("pbisync went away; sink plugin exits")
	os.Exit(3)
}

// PluginLogger returns a logger whose records go-plugin's host understands (JSON lines
// with @level, @message and @timestamp) and forwards into pbisync's logs.
func PluginLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				// go-plugin's host parses exactly this layout.
				a.Key = "@timestamp"
				a.Value = slog.StringValue(a.Value.Time().Format("2006-01-02T15:04:05.000000Z07:00"))
			case slog.MessageKey:
				a.Key = "@message"
			case slog.LevelKey:
				a.Key = "@level"
				a.Value = slog.StringValue(strings.ToLower(a.Value.String()))
			}
			return a
		},
	}))
}
