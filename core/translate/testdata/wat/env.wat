;; env drops every asset when it can see any environment variable: only a grant shows one.
(module
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $sizes (param i32 i32) (result i32)))
  (import "pbisync" "next" (func $next (result i32)))
  (import "pbisync" "drop" (func $drop (result i32)))
  (memory (export "memory") 1)
  (func (export "pbisync_abi_version_1"))
  (func (export "pbisync_translate") (result i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (call $next)))
      (drop (call $sizes (i32.const 64) (i32.const 68)))
      (if (i32.gt_u (i32.load (i32.const 64)) (i32.const 0)) (then (drop (call $drop))))
      (br $l)))
    (i32.const 0)))
