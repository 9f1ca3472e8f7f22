;; logflood writes 1,000 log lines and 1,000 stdout lines per asset.
(module
  (import "pbisync" "next" (func $next (result i32)))
  (import "pbisync" "log" (func $log (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "flood\n")
  (data (i32.const 16) "\00\00\00\00\06\00\00\00") ;; iovec: buf 0, len 6
  (func (export "pbisync_abi_version_1"))
  (func (export "pbisync_translate") (result i32)
    (local $i i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (call $next)))
      (local.set $i (i32.const 0))
      (loop $flood
        (drop (call $log (i32.const 0) (i32.const 0) (i32.const 5)))
        (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 32)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $flood (i32.lt_u (local.get $i) (i32.const 1000))))
      (br $l)))
    (i32.const 0)))
