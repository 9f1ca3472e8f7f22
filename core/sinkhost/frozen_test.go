package sinkhost

import (
	"context"
	"fmt"
	"github.com/pbisync/pbisync/sdk/sink"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// socketDirsOf lists the per-plugin socket directories under this process's root.
func socketDirsOf(t *testing.T) []string {
	t.Helper()
	root, err := socketRoot(nil)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestFrozenPlugin stops a plugin with SIGSTOP, mid-stream and just before Close: a
// frozen plugin answers nothing, and go-plugin's graceful Kill would wait for it for
// ever. The host must restart it within ack_timeout and a bounded grace, deliver
// everything, and leave neither the process nor its socket behind.
func TestFrozenPlugin(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc to tell a stopped process")
	}
	const ackTimeout = time.Second
	bound := ackTimeout + killGrace + killWait + 10*time.Second
	for _, when := range []string{"mid-stream", "before close"} {
		t.Run(when, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "specs.jsonl")
			var logs logBuffer
			s := startSink(t, fmt.Sprintf("name: specs\njsonl: {path: %q}\nbatch_size: 20\nwindow: 4\nack_timeout: %s\n", out, ackTimeout), testOptions(&logs))
			// A sync run, as the engine begins one: the restarted plugin resumes it.
			if err := s.Begin(context.Background(), sink.RunSync); err != nil {
				t.Fatal(err)
			}
			frozen := s.PID()
			const n = 2000
			stopped := false
			stop := func() {
				if err := syscall.Kill(frozen, syscall.SIGSTOP); err != nil {
					t.Fatal(err)
				}
				waitStopped(t, frozen)
				stopped = true
			}
			t.Cleanup(func() { syscall.Kill(frozen, syscall.SIGKILL) })
			t0 := time.Now()
			writeAll(t, s, specEvents(0, n), 100, func(i int) {
				if when == "mid-stream" && !stopped && s.Status().Acked >= 10 {
					stop()
				}
			})
			if when == "before close" {
				// Let everything be acknowledged, so the freeze meets the close path.
				for s.Status().Acked < s.Status().Batches {
					time.Sleep(10 * time.Millisecond)
				}
				stop()
			}
			done := make(chan error, 1)
			go func() { done <- s.Close(context.Background()) }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(bound + time.Minute):
				t.Fatalf("Close still waits for the frozen plugin after %s", time.Since(t0))
			}
			took := time.Since(t0)
			if took > bound+5*time.Second {
				t.Errorf("the run took %s with a frozen plugin; want it within ack_timeout + grace (%s)", took, bound)
			}
			st := s.Status()
			if !st.Complete || st.Restarts != 1 {
				t.Fatalf("status %+v\n%s", st, logs.String())
			}
			if !pidGone(frozen) {
				t.Fatalf("the frozen plugin %d still exists", frozen)
			}
			f, err := os.Open(out)
			if err != nil {
				t.Fatalf("%v\n%s", err, logs.String())
			}
			defer f.Close()
			checkAllKeys(t, readKeys(t, f), n, true)
			if dirs := socketDirsOf(t); len(dirs) != 0 {
				t.Errorf("plugin socket directories left behind: %v", dirs)
			}
			t.Logf("closed %s after the freeze began; status %+v", took, st)
		})
	}
}

// waitStopped waits until the process is in the stopped state (T in /proc/PID/stat).
func waitStopped(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			t.Fatalf("plugin %d is gone before it was stopped", pid)
		}
		if i := strings.LastIndexByte(string(data), ')'); i > 0 {
			if f := strings.Fields(string(data[i+1:])); len(f) > 0 && (f[0] == "T" || f[0] == "t") {
				return
			}
		}
	}
	t.Fatalf("plugin %d did not stop", pid)
}

// TestKilledPluginLeavesNoSocket kills a plugin with SIGKILL, which leaves its unix
// socket behind; the host removes the directory that holds it.
func TestKilledPluginLeavesNoSocket(t *testing.T) {
	out := filepath.Join(t.TempDir(), "specs.jsonl")
	s := startSink(t, fmt.Sprintf("name: specs\njsonl: {path: %q}\nbatch_size: 10\n", out), testOptions(nil))
	dirs := socketDirsOf(t)
	if len(dirs) != 1 {
		t.Fatalf("want the plugin's socket directory, have %v", dirs)
	}
	root, _ := socketRoot(nil)
	sock, _ := filepath.Glob(filepath.Join(root, dirs[0], "plugin*"))
	if len(sock) != 1 {
		t.Fatalf("the plugin's socket is not in its directory: %v", sock)
	}
	for round := 0; round < 3; round++ {
		if err := syscall.Kill(s.PID(), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		writeAll(t, s, specEvents(round*100, 100), 50, nil)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := s.Status(); !st.Complete || st.Restarts != 3 {
		t.Fatalf("status %+v", st)
	}
	if dirs := socketDirsOf(t); len(dirs) != 0 {
		t.Errorf("socket directories left behind by killed plugins: %v", dirs)
	}
}

// deadPID returns the pid of a process that has ended and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	c := exec.Command(os.Args[0], "-test.run=^$")
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	return c.Process.Pid
}

func TestCleanStaleSocketDirs(t *testing.T) {
	base := t.TempDir()
	dead := deadPID(t)
	me := os.Getpid()
	mk := func(name string) string {
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Join(p, "3"), 0o700); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gone := []string{
		mk(socketDirPrefix + strconv.Itoa(dead)),
		mk(socketDirPrefix + strconv.Itoa(dead) + "-12345"),
	}
	kept := []string{
		mk(socketDirPrefix + processTag(me)),   // a live pbisync
		mk(socketDirPrefix + strconv.Itoa(me)), // a live pid, start time unknown
		mk(socketDirPrefix + "abc"),
		mk(socketDirPrefix + "0" + strconv.Itoa(dead)),
		mk("other-" + strconv.Itoa(dead)),
	}
	if st := startTime(me); st != "" {
		// The pid is alive but started at another time: a pbisync that died, its pid reused.
		gone = append(gone, mk(socketDirPrefix+strconv.Itoa(me)+"-1"+st))
	}
	// A symlink and a file with a stale name are not directories pbisync made.
	target := mk("target")
	link := filepath.Join(base, socketDirPrefix+strconv.Itoa(dead)+"-1")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(base, socketDirPrefix+strconv.Itoa(dead)+"-2")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	kept = append(kept, link, file, target)

	removed := CleanStaleSocketDirs(base)
	for _, p := range gone {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("stale %s was kept", filepath.Base(p))
		}
	}
	for _, p := range kept {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed: %v", filepath.Base(p), err)
		}
	}
	if len(removed) != len(gone) {
		t.Errorf("removed %v, want %d", removed, len(gone))
	}
	if _, err := os.Stat(filepath.Join(target, "3")); err != nil {
		t.Errorf("the symlink's target lost its content: %v", err)
	}
}

// TestStaleSocketDirOfKilledHost: a pbisync killed with SIGKILL cannot clean up; its
// plugin's socket stays in its directory until the next pbisync starts a plugin, which
// removes it.
func TestStaleSocketDirOfKilledHost(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "pipeline.yaml")
	if err := os.WriteFile(file, []byte("name: s\njsonl: {path: \"-\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// startHost runs a host process with its temp directory in tmp, and returns it once
	// its plugin runs.
	startHost := func() (*exec.Cmd, int) {
		parent := exec.Command(os.Args[0], "parent", file)
		parent.Env = append(os.Environ(), "TMPDIR="+tmp)
		parent.Stderr = os.Stderr
		out, err := parent.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := parent.Start(); err != nil {
			t.Fatal(err)
		}
		var pid int
		if _, err := fmt.Fscan(out, &pid); err != nil {
			parent.Process.Kill()
			t.Fatal("parent did not report its plugin:", err)
		}
		return parent, pid
	}
	killHost := func(parent *exec.Cmd, plugin int) {
		parent.Process.Signal(syscall.SIGKILL)
		_ = parent.Wait()
		if !pidGone(plugin) {
			syscall.Kill(plugin, syscall.SIGKILL)
			t.Fatalf("plugin %d outlived its killed parent", plugin)
		}
	}
	first, plugin := startHost()
	dir := filepath.Join(tmp, socketDirPrefix+processTag(first.Process.Pid))
	killHost(first, plugin)
	if left, _ := filepath.Glob(filepath.Join(dir, "*", "plugin*")); len(left) == 0 {
		t.Fatalf("expected the killed host's plugin socket under %s", dir)
	}

	second, plugin := startHost()
	defer killHost(second, plugin)
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Fatalf("the next host's start left the killed host's socket directory %s (%v)", dir, err)
	}
	entries, _ := filepath.Glob(filepath.Join(tmp, socketDirPrefix+"*"))
	if want := filepath.Join(tmp, socketDirPrefix+processTag(second.Process.Pid)); len(entries) != 1 || entries[0] != want {
		t.Fatalf("socket directories %v, want only the running host's %s", entries, want)
	}
}

func TestParseStartTime(t *testing.T) {
	for _, tc := range []struct{ stat, want string }{
		{"4242 (pbisync) S 1 4242 4242 0 -1 4194560 1000 0 0 0 5 3 0 0 20 0 12 0 987654 100000 2000 18446744073709551615", "987654"},
		{"4242 (a) b (c) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 31337 20", "31337"},
		{"4242 (short) S 1 2 3", ""},
		{"no parenthesis at all", ""},
		{"1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 notanumber 20", ""},
	} {
		if got := parseStartTime([]byte(tc.stat)); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.stat, got, tc.want)
		}
	}
	if st := startTime(os.Getpid()); st == "" {
		if _, err := os.Stat("/proc/self/stat"); err == nil {
			t.Error("no start time for this process")
		}
	}
}

func FuzzParseStartTime(f *testing.F) {
	f.Add([]byte("4242 (pbisync) S 1 4242 4242 0 -1 4194560 1000 0 0 0 5 3 0 0 20 0 12 0 987654 100000"))
	f.Add([]byte("1 ()) S"))
	f.Fuzz(func(t *testing.T, stat []byte) {
		got := parseStartTime(stat)
		if got == "" {
			return
		}
		if _, err := strconv.ParseUint(got, 10, 64); err != nil || strings.ContainsAny(got, " )") {
			t.Fatalf("start time %q from %q", got, stat)
		}
	})
}

// TestHangingConfigureAndClose: a plugin that never answers Configure fails the start
// within start_timeout; one whose Close never returns is restarted after ack_timeout and
// closed again.
func TestHangingConfigureAndClose(t *testing.T) {
	t.Run("configure", func(t *testing.T) {
		yml := fmt.Sprintf("name: h\nplugin: {path: %q, args: [plugin, sink, hangconfig]}\nauto_mtls: false\nstart_timeout: 4s\n", os.Args[0])
		t0 := time.Now()
		_, err := New(context.Background(), entryNode(t, yml), testOptions(nil))
		if err == nil || !strings.Contains(err.Error(), `output "h": configure: the plugin did not answer within 4s (start_timeout)`) {
			t.Fatalf("error %v", err)
		}
		if took := time.Since(t0); took > 4*time.Second+killGrace+killWait+10*time.Second {
			t.Errorf("New took %s", took)
		}
		if dirs := socketDirsOf(t); len(dirs) != 0 {
			t.Errorf("socket directories left: %v", dirs)
		}
	})
	t.Run("close", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "specs.jsonl")
		var logs logBuffer
		yml := fmt.Sprintf("name: h\nplugin: {path: %q, args: [plugin, sink, hangclose]}\nconfig: {path: %q}\nauto_mtls: false\nack_timeout: 4s\n", os.Args[0], out)
		s := startSink(t, yml, testOptions(&logs))
		first := s.PID()
		writeAll(t, s, specEvents(0, 100), 50, nil)
		if err := s.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if st := s.Status(); !st.Complete || st.Restarts != 1 {
			t.Fatalf("status %+v", st)
		}
		if !strings.Contains(logs.String(), "did not finish closing within 4s (ack_timeout)") {
			t.Errorf("the log does not say why:\n%s", logs.String())
		}
		if !pidGone(first) {
			t.Fatal("the hung plugin still runs")
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		checkAllKeys(t, readKeys(t, f), 100, false)
	})
}
