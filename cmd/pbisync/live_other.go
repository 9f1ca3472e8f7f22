//go:build !unix

package main

import "io"

func ttyColumns(io.Writer) int { return 0 }
