;; logger logs one warning per asset through the host and writes a line to stderr.
(module
  (import "pbisync" "next" (func $next (result i32)))
  (import "pbisync" "log" (func $log (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "looking at it")
  (data (i32.const 32) "to stderr\n")
  (data (i32.const 64) "\20\00\00\00\0a\00\00\00") ;; iovec {32, 10}
  (func (export "pbisync_abi_version_1"))
  (func (export "pbisync_translate") (result i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (call $next)))
      (drop (call $log (i32.const 4) (i32.const 0) (i32.const 13)))
      (drop (call $fd_write (i32.const 2) (i32.const 64) (i32.const 1) (i32.const 96)))
      (br $l)))
    (i32.const 0)))
