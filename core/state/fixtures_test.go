package state

import (
	"os"
	"strconv"
)

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }

func itoa(i int) string { return strconv.Itoa(i) }
