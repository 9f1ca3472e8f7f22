package sinkhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinkpb"
	"google.golang.org/grpc"
)

// instance is one running plugin process with its open Write stream.
type instance struct {
	client   *plugin.Client
	rpc      sinkpb.SinkClient
	stream   sinkpb.Sink_WriteClient
	cancel   context.CancelFunc
	pid      int
	cmd      *exec.Cmd     // the plugin process, to kill it by its pid
	sockDir  string        // the directory of the plugin's unix socket, removed with it
	lifeline *os.File      // our end; the plugin exits when it closes
	copied   chan struct{} // closed when the stdout pipe is drained; nil without a pipe

	dead     chan struct{} // closed when the Write stream ended
	err      error         // why it ended; read after dead is closed
	killOnce sync.Once

	// Batches go through a sender goroutine: Send blocks on HTTP/2 flow control when
	// the plugin stops reading, and the host must stay free to notice and restart it.
	sendq     chan *encodedRequest
	sendDone  chan struct{}
	closeOnce sync.Once
}

// sender sends queued batches in order, then half-closes the stream.
func (in *instance) sender() {
	defer close(in.sendDone)
	for req := range in.sendq {
		// SendMsg, not Send: the stream's codec writes an encodedRequest as its bytes.
		if err := in.stream.SendMsg(req); err != nil {
			return // the receiver learns why from the stream
		}
	}
	_ = in.stream.CloseSend()
}

// enqueue hands a batch to the sender; false means the stream is gone.
func (in *instance) enqueue(req *encodedRequest) bool {
	select {
	case in.sendq <- req:
		return true
	case <-in.dead:
	case <-in.sendDone:
	}
	return false
}

// closeSend half-closes the stream once everything queued is sent.
func (in *instance) closeSend() { in.closeOnce.Do(func() { close(in.sendq) }) }

// live holds every running instance, so KillAll can end them on any exit path.
var live sync.Map // *instance -> struct{}

// KillAll ends every plugin process this package started that is still running, and
// removes their socket directory. The CLI defers it in main, so no path out of pbisync
// leaves a plugin or a socket behind.
func KillAll() {
	var wg sync.WaitGroup
	live.Range(func(k, _ any) bool {
		wg.Go(k.(*instance).kill)
		return true
	})
	wg.Wait()
	RemoveSocketDir()
}

// Deadlines of ending a plugin. go-plugin's Kill asks the plugin to shut down over gRPC
// without a deadline, so a frozen plugin (SIGSTOP, or busy threads) would block it for
// ever: past killGrace the process is killed by its pid, and past killWait more the host
// stops waiting for go-plugin's goroutines.
const (
	killGrace = 3 * time.Second
	killWait  = 5 * time.Second
)

// kill ends the process: gracefully, then by its pid after killGrace. It returns within
// killGrace + killWait (+ the stdout copy's 5 s) whatever the plugin does, and removes the
// plugin's socket directory.
func (in *instance) kill() {
	in.killOnce.Do(func() {
		if in.cancel != nil {
			in.cancel()
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			in.client.Kill()
		}()
		select {
		case <-done:
		case <-time.After(killGrace):
			in.killProcess()
			select {
			case <-done:
			case <-time.After(killWait):
			}
		}
		in.killProcess() // a no-op when it exited; go-plugin's own kill may not have run
		if in.lifeline != nil {
			in.lifeline.Close()
		}
		if in.copied != nil {
			select {
			case <-in.copied:
			case <-time.After(5 * time.Second):
			}
		}
		if in.sockDir != "" {
			_ = os.RemoveAll(in.sockDir)
		}
		live.Delete(in)
	})
}

// killProcess sends SIGKILL (on Windows, TerminateProcess) to the plugin process; it also
// ends a stopped one.
func (in *instance) killProcess() {
	if in.cmd != nil && in.cmd.Process != nil {
		_ = in.cmd.Process.Kill()
	}
}

// start runs the plugin, configures it and opens the Write stream.
func (s *Sink) start(ctx context.Context, attempt int) (_ *instance, err error) {
	l := s.launch
	if err := checkExecutable(l); err != nil {
		return nil, err
	}
	if err := verifyPin(l); err != nil {
		return nil, err
	}
	cmd := exec.Command(l.path, l.args...)
	cmd.Dir = l.dir
	cmd.Env = append(os.Environ(), l.env...)
	setParentDeathSignal(cmd)

	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("output %q: %w", l.name, err)
	}
	defer lifeR.Close() // the child holds its own copy once started
	in := &instance{lifeline: lifeW, dead: make(chan struct{}), cmd: cmd}
	if in.sockDir, err = newSocketDir(s.log); err != nil {
		lifeW.Close()
		return nil, fmt.Errorf("output %q: %w", l.name, err)
	}
	cmd.Env = append(cmd.Env, socketEnv(in.sockDir))

	var stdoutFile *os.File
	if f, ok := s.opts.Stdout.(*os.File); ok {
		stdoutFile = f
	} else {
		r, w, err := os.Pipe()
		if err != nil {
			lifeW.Close()
			os.RemoveAll(in.sockDir)
			return nil, fmt.Errorf("output %q: %w", l.name, err)
		}
		defer w.Close()
		stdoutFile = w
		in.copied = make(chan struct{})
		go func() {
			defer close(in.copied)
			defer r.Close()
			_, _ = io.Copy(s.opts.Stdout, r)
		}()
	}
	cmd.ExtraFiles = []*os.File{lifeR, stdoutFile}
	cmd.Env = append(cmd.Env, sink.EnvLifelineFD+"=3", sink.EnvStdoutFD+"=4")

	cc := &plugin.ClientConfig{
		HandshakeConfig:  sink.Handshake,
		VersionedPlugins: sink.PluginSets(&sink.GRPCPlugin{}),
		Cmd:              cmd,
		SkipHostEnv:      true, // cmd.Env already holds the host's environment, then the YAML's
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         l.autoMTLS,
		StartTimeout:     l.timeout,
		Logger:           newSlogger(s.log),
		SyncStdout:       s.opts.Stdout,
		SyncStderr:       writerFunc(func(p []byte) (int, error) { s.log.Info(string(trimNewline(p))); return len(p), nil }),
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(sink.MaxMessageBytes), grpc.MaxCallSendMsgSize(sink.MaxMessageBytes))},
	}
	if len(l.checksum) > 0 {
		cc.SecureConfig = &plugin.SecureConfig{Checksum: l.checksum, Hash: sha256.New()}
	}
	in.client = plugin.NewClient(cc)
	live.Store(in, struct{}{})
	defer func() {
		if err != nil {
			if in.copied != nil {
				// Our copy of the pipe's write end, or kill waits for the copy in vain.
				stdoutFile.Close()
			}
			in.kill()
		}
	}()
	proto, err := in.client.Client()
	if err != nil {
		if attempt == 0 {
			return nil, handshakeError(l, err)
		}
		return nil, fmt.Errorf("output %q: starting plugin %s: %w", l.name, l.path, err)
	}
	if rc := in.client.ReattachConfig(); rc != nil {
		in.pid = rc.Pid
	}
	raw, err := proto.Dispense(sink.PluginName)
	if err != nil {
		return nil, fmt.Errorf("output %q: plugin %s: %w", l.name, l.path, err)
	}
	in.rpc = raw.(sinkpb.SinkClient)

	// A plugin that does not answer Configure within start_timeout is as dead as one
	// that never completed the handshake.
	cctx, ccancel := context.WithTimeout(ctx, l.timeout)
	// The events are sdk/sink.EventBytes's, whose json values are json.Marshal's.
	resp, err := in.rpc.Configure(cctx, &sinkpb.ConfigureRequest{
		Name: l.name, ConfigJson: l.cfgJSON, Resume: attempt > 0, Attempt: uint32(attempt),
		JsonCanonical: true,
	})
	// The plugin's gRPC server may end the call at the deadline a moment before the
	// host's own timer does, with another code: near the deadline, it is the deadline.
	deadline, _ := cctx.Deadline()
	timedOut := ctx.Err() == nil && (cctx.Err() != nil || time.Until(deadline) < 100*time.Millisecond)
	ccancel()
	if err != nil && timedOut {
		return nil, fmt.Errorf("output %q: configure: the plugin did not answer within %s (start_timeout)", l.name, l.timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("output %q: configure: %w", l.name, grpcErr(err))
	}
	if errs := resp.GetErrors(); len(errs) > 0 {
		return nil, s.configErrors(errs)
	}
	s.setAccepts(resp.GetAccepts())
	if err := s.resumeRun(ctx, in.rpc); err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	in.stream, err = in.rpc.Write(sctx, grpc.ForceCodecV2(encodedCodec{}))
	if err != nil {
		return nil, fmt.Errorf("output %q: opening the write stream: %w", l.name, grpcErr(err))
	}
	in.sendq = make(chan *encodedRequest, l.window)
	in.sendDone = make(chan struct{})
	go in.sender()
	go s.receive(in)
	return in, nil
}

// configErrors maps the plugin's config errors to places in pipeline.yaml.
func (s *Sink) configErrors(errs []*sinkpb.ConfigError) error {
	var out []error
	for _, ce := range errs {
		var at config.Pos
		if s.launch.cfg.Node != nil {
			at = nodeAt(s.launch.cfg, ce.GetPath()).Pos()
		} else {
			at = s.launch.pos
		}
		msg := ce.GetMessage()
		if p := ce.GetPath(); len(p) > 0 && !strings.HasPrefix(msg, strings.Join(p, ".")) {
			msg = strings.Join(p, ".") + ": " + msg
		}
		out = append(out, &config.Error{Pos: at, Msg: fmt.Sprintf("output %q: %s", s.launch.name, msg)})
	}
	return errors.Join(out...)
}

// receive reads acknowledgements until the stream ends.
func (s *Sink) receive(in *instance) {
	for {
		ack, err := in.stream.Recv()
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			in.err = err
			close(in.dead)
			s.notify()
			return
		}
		s.onAck(ack.GetSeq())
	}
}

func checkSum(path string, want []byte) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("plugin %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("plugin %s: %w", path, err)
	}
	if got := h.Sum(nil); string(got) != string(want) {
		return fmt.Errorf("plugin %s: sha256 is %s, the pipeline expects %s: refusing to run it", path, hex.EncodeToString(got), hex.EncodeToString(want))
	}
	return nil
}
