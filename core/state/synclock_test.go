package state

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestLockSync: a second sync of the pipeline fails at once, naming the holder; another
// pipeline is not held up; the lock is free again after unlock, and after the holding
// process dies (here: a child process killed while it holds it).
func TestLockSync(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	dir := t.TempDir()
	st, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	unlock, err := st.LockSync("daily")
	if err != nil {
		t.Fatal(err)
	}
	// The lock is per open file description: a second take in this process conflicts too.
	if _, err := st.LockSync("daily"); !errors.Is(err, ErrSyncRunning) || !strings.Contains(err.Error(), "daily") {
		t.Fatalf("second sync: %v", err)
	}
	other, err := st.LockSync("hourly")
	if err != nil {
		t.Fatalf("another pipeline was held up: %v", err)
	}
	other()
	unlock()
	again, err := st.LockSync("daily")
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	again()

	if os.Getenv("PBISYNC_TEST_HOLD_LOCK") != "" {
		return
	}
	// A child process takes the lock and is killed: the lock goes with it.
	cmd := exec.Command(os.Args[0], "-test.run", "^TestLockSyncHolder$")
	cmd.Env = append(os.Environ(), "PBISYNC_TEST_HOLD_LOCK="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := out.Read(buf) // "locked" once it holds it
	if !strings.Contains(string(buf[:n]), "locked") {
		cmd.Process.Kill()
		t.Fatalf("the child did not take the lock: %q", buf[:n])
	}
	if _, err := st.LockSync("daily"); !errors.Is(err, ErrSyncRunning) {
		t.Errorf("while a child holds it: %v", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		u, err := st.LockSync("daily")
		if err == nil {
			u()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the lock outlived its process: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLockSyncHolder is TestLockSync's child: it takes the lock and waits to be killed.
func TestLockSyncHolder(t *testing.T) {
	dir := os.Getenv("PBISYNC_TEST_HOLD_LOCK")
	if dir == "" {
		t.Skip("run by TestLockSync")
	}
	st, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.LockSync("daily"); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("locked\n")
	time.Sleep(time.Minute)
}
