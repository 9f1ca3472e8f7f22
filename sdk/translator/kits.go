// Package translator holds the sources of the translator kits (Go in ./go, C, Rust and
// AssemblyScript beside it) and embeds the non-Go ones, so `pbisync translator new` can
// copy a kit into a new translator without a pbisync checkout.
package translator

import "embed"

// Kits holds c/pbisync.h, rust/src/lib.rs and the AssemblyScript kit.
//
//go:embed c/pbisync.h rust/src/lib.rs assemblyscript/index.ts assemblyscript/package.json assemblyscript/package-lock.json
var Kits embed.FS
