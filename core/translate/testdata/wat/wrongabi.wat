;; wrongabi declares ABI version 2.
(module
  (import "pbisync" "next" (func $next (result i32)))
  (import "pbisync" "get" (func $get (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "pbisync_abi_version_2"))
  (func (export "pbisync_translate") (result i32) (i32.const 0)))
