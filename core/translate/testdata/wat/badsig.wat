;; badsig imports pbisync.get with two parameters instead of four.
(module
  (import "pbisync" "get" (func $get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "pbisync_abi_version_1"))
  (func (export "pbisync_translate") (result i32) (i32.const 0)))
