//go:build !wasip1

package translator

// Outside WebAssembly there is no host: the package compiles, so tools such as go vet
// work on translator code, but every call panics with how to build it.

const notWasm = "pbisync translators run inside pbisync: build with GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared"

func hostNext() int32                          { panic(notWasm) }
func hostGet(int32, int32, *byte, int32) int32 { panic(notWasm) }
func hostCount(int32) int32                    { panic(notWasm) }
func hostLookup(int32, string, *byte, int32) int32 {
	panic(notWasm)
}
func hostSet(int32, string) int32           { panic(notWasm) }
func hostSetJSON(int32, string) int32       { panic(notWasm) }
func hostInsert(int32, int32, string) int32 { panic(notWasm) }
func hostRemove(int32, int32) int32         { panic(notWasm) }
func hostPut(int32, string, string) int32   { panic(notWasm) }
func hostDelete(int32, string) int32        { panic(notWasm) }
func hostDrop() int32                       { panic(notWasm) }
func hostFail(string) int32                 { panic(notWasm) }
func hostLog(int32, string) int32           { panic(notWasm) }
