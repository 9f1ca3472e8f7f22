;; clock drops every asset when the wall clock reads later than 2023-11-14, which only a
;; real clock does: without grant.clock the sandbox's fake clock reads 2022-01-01.
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "pbisync" "next" (func $next (result i32)))
  (import "pbisync" "drop" (func $drop (result i32)))
  (memory (export "memory") 1)
  (func (export "pbisync_abi_version_1"))
  (func (export "pbisync_translate") (result i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (call $next)))
      (drop (call $clock (i32.const 0) (i64.const 1) (i32.const 64)))
      (if (i64.gt_u (i64.load (i32.const 64)) (i64.const 1700000000000000000)) (then (drop (call $drop))))
      (br $l)))
    (i32.const 0)))
