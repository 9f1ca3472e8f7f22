package sinkhost

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal has Linux kill the plugin if pbisync dies, for plugins that do
// not watch their lifeline (those not written with the Go kit).
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
