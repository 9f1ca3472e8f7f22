//go:build !linux

package sinkhost

import "os/exec"

// setParentDeathSignal does nothing here: plugins rely on the lifeline pipe.
func setParentDeathSignal(*exec.Cmd) {}
