package sinkhost

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/hashicorp/go-plugin"
	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinkpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrUnchecked is returned (wrapped) by Probe for a plugin that answers the handshake
// but cannot check its config without opening its output (it does not implement the
// protocol's Check call). Its config is then checked only when a sync configures it.
var ErrUnchecked = fmt.Errorf("the plugin cannot check its config without opening its output")

// Probe checks an `outputs:` entry as far as that is possible without opening the
// output: the entry itself (as Check), the plugin binary (it exists, is executable,
// matches its sha256 pin), go-plugin's handshake, and the sink's own config through the
// protocol's Check call, whose errors name the YAML line as a sync's would. Nothing is
// written. `pbisync validate` runs it for every output.
func Probe(ctx context.Context, entry config.Node, opts Options) error {
	if opts.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("finding pbisync's own binary to run built-in sinks: %w", err)
		}
		opts.Executable = exe
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	l, err := decodeEntry(entry, opts)
	if err != nil {
		return err
	}
	if err := checkExecutable(l); err != nil {
		return err
	}
	if err := verifyPin(l); err != nil {
		return err
	}
	s := &Sink{launch: l, opts: opts, log: opts.Logger.With("sink", l.name)}
	cmd := exec.Command(l.path, l.args...)
	cmd.Dir = l.dir
	cmd.Env = append(os.Environ(), l.env...)
	setParentDeathSignal(cmd)
	sockDir, err := newSocketDir(s.log)
	if err != nil {
		return fmt.Errorf("%s: output %q: %w", l.pos, l.name, err)
	}
	cmd.Env = append(cmd.Env, socketEnv(sockDir))
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sink.Handshake,
		VersionedPlugins: sink.PluginSets(&sink.GRPCPlugin{}),
		Cmd:              cmd,
		SkipHostEnv:      true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         l.autoMTLS,
		StartTimeout:     l.timeout,
		Logger:           newSlogger(s.log),
	})
	// Ended as a sink's plugin is: killed by its pid when it does not exit, its socket
	// directory removed.
	in := &instance{client: client, cmd: cmd, sockDir: sockDir}
	live.Store(in, struct{}{})
	defer in.kill()
	proto, err := client.Client()
	if err != nil {
		return handshakeError(l, err)
	}
	raw, err := proto.Dispense(sink.PluginName)
	if err != nil {
		return fmt.Errorf("%s: output %q: plugin %s: %w", l.pos, l.name, l.path, err)
	}
	cctx, cancel := context.WithTimeout(ctx, l.timeout) // as Configure: within start_timeout
	defer cancel()
	resp, err := raw.(sinkpb.SinkClient).Check(cctx, &sinkpb.ConfigureRequest{Name: l.name, ConfigJson: l.cfgJSON})
	if status.Code(err) == codes.Unimplemented {
		return fmt.Errorf("%s: output %q: %w", l.pos, l.name, ErrUnchecked)
	}
	if err != nil {
		return fmt.Errorf("%s: output %q: check: %w", l.pos, l.name, grpcErr(err))
	}
	if errs := resp.GetErrors(); len(errs) > 0 {
		return s.configErrors(errs)
	}
	return nil
}

// checkExecutable refuses a plugin path that names no executable file, before
// go-plugin tries to start it. A bare name is looked up on PATH, as exec does.
func checkExecutable(l *launch) error {
	at := l.pathPos
	if at.Line == 0 {
		at = l.pos
	}
	path := l.path
	if filepath.Base(path) == path {
		found, err := exec.LookPath(path)
		if err != nil {
			return &config.Error{Pos: at, Msg: fmt.Sprintf("output %q: plugin %s is not on PATH", l.name, path)}
		}
		path = found
	}
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return &config.Error{Pos: at, Msg: fmt.Sprintf("output %q: plugin %s does not exist", l.name, path)}
	case st.IsDir():
		return &config.Error{Pos: at, Msg: fmt.Sprintf("output %q: plugin %s is a directory, not an executable", l.name, path)}
	case st.Mode()&0o111 == 0:
		return &config.Error{Pos: at, Msg: fmt.Sprintf("output %q: plugin %s is not executable (chmod +x it)", l.name, path)}
	}
	return nil
}

// verifyPin refuses a plugin whose content does not match its sha256 pin; the error
// points at the pin.
func verifyPin(l *launch) error {
	if len(l.checksum) == 0 {
		return nil
	}
	if err := checkSum(l.path, l.checksum); err != nil {
		return &config.Error{Pos: l.sumPos, Msg: fmt.Sprintf("output %q: %v", l.name, err)}
	}
	return nil
}

// handshakeError says that the executable an output names is not a pbisync sink
// plugin, or failed before it answered go-plugin's handshake: a pipeline error.
func handshakeError(l *launch, err error) error {
	at := l.pathPos
	if at.Line == 0 {
		at = l.pos
	}
	return &config.Error{Pos: at, Msg: fmt.Sprintf("output %q: plugin %s did not answer pbisync's sink handshake: %v", l.name, l.path, err)}
}
