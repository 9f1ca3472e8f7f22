//go:build wasip1

package translator

import "unsafe"

//go:wasmimport pbisync next
func next() int32

//go:wasmimport pbisync get
func get_(field, index int32, buf *byte, capacity int32) int32

//go:wasmimport pbisync count
func count_(field int32) int32

//go:wasmimport pbisync lookup
func lookup_(field int32, path *byte, pathLen int32, buf *byte, capacity int32) int32

//go:wasmimport pbisync set
func set_(field int32, p *byte, n int32) int32

//go:wasmimport pbisync set_json
func setJSON_(field int32, p *byte, n int32) int32

//go:wasmimport pbisync insert
func insert_(field, index int32, p *byte, n int32) int32

//go:wasmimport pbisync remove
func remove_(field, index int32) int32

//go:wasmimport pbisync put
func put_(field int32, k *byte, kn int32, v *byte, vn int32) int32

//go:wasmimport pbisync delete
func delete_(field int32, k *byte, kn int32) int32

//go:wasmimport pbisync drop
func drop_() int32

//go:wasmimport pbisync fail
func fail_(p *byte, n int32) int32

//go:wasmimport pbisync log
func log_(level int32, p *byte, n int32) int32

func ptr(s string) *byte { return unsafe.StringData(s) }

func hostNext() int32                            { return next() }
func hostGet(f, i int32, b *byte, c int32) int32 { return get_(f, i, b, c) }
func hostCount(f int32) int32                    { return count_(f) }
func hostLookup(f int32, p string, b *byte, c int32) int32 {
	return lookup_(f, ptr(p), int32(len(p)), b, c)
}
func hostSet(f int32, v string) int32       { return set_(f, ptr(v), int32(len(v))) }
func hostSetJSON(f int32, v string) int32   { return setJSON_(f, ptr(v), int32(len(v))) }
func hostInsert(f, i int32, v string) int32 { return insert_(f, i, ptr(v), int32(len(v))) }
func hostRemove(f, i int32) int32           { return remove_(f, i) }
func hostPut(f int32, k, v string) int32 {
	return put_(f, ptr(k), int32(len(k)), ptr(v), int32(len(v)))
}
func hostDelete(f int32, k string) int32    { return delete_(f, ptr(k), int32(len(k))) }
func hostDrop() int32                       { return drop_() }
func hostFail(msg string) int32             { return fail_(ptr(msg), int32(len(msg))) }
func hostLog(level int32, msg string) int32 { return log_(level, ptr(msg), int32(len(msg))) }

//go:wasmexport pbisync_abi_version_1
func abiVersion1() {}

//go:wasmexport pbisync_init
func pbisyncInit() int32 { return initModule() }

//go:wasmexport pbisync_translate
func pbisyncTranslate() int32 { return translateBatch() }
