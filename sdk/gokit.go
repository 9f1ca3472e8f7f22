// Package sdk holds what `pbisync translator new` copies into a Go translator made
// outside a pbisync checkout: the Go translator kit and the spec types it uses.
package sdk

import "embed"

// GoKit holds the Go translator kit (translator/go) and the package it imports
// (spec), without tests, as a module of their own for a scaffold's go.mod to replace
// github.com/pbisync/pbisync with.
//
//go:embed spec/*.go translator/go/*.go
var GoKit embed.FS
