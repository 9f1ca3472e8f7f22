;; grow asks for memory without bound on its first asset, then traps when refused.
(module
  (import "pbisync" "next" (func $next (result i32)))
  (import "pbisync" "get" (func $get (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "pbisync_abi_version_1"))
  (func (export "pbisync_translate") (result i32)
    (drop (call $next))
    (loop $g (br_if $g (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
    unreachable))
