;; fsread opens the file config.path relative to the first granted directory (fd 3)
;; and sets DESCRIPTION to its first bytes, or to "denied" when the open fails.
(module
  (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (import "pbisync" "next" (func $next (result i32)))
  (import "pbisync" "lookup" (func $lookup (param i32 i32 i32 i32 i32) (result i32)))
  (import "pbisync" "set" (func $set (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "path")
  (data (i32.const 32) "denied")
  (data (i32.const 48) "\00\08\00\00\00\01\00\00") ;; iovec: buf 2048, len 256
  (func (export "pbisync_abi_version_1"))
  (func (export "pbisync_translate") (result i32)
    (local $n i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (call $next)))
      (local.set $n (call $lookup (i32.const 8) (i32.const 0) (i32.const 4) (i32.const 1024) (i32.const 256)))
      (if (call $open (i32.const 3) (i32.const 1) (i32.const 1024) (local.get $n) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 16))
        (then (drop (call $set (i32.const 21) (i32.const 32) (i32.const 6))))
        (else
          (drop (call $read (i32.load (i32.const 16)) (i32.const 48) (i32.const 1) (i32.const 56)))
          (drop (call $set (i32.const 21) (i32.const 2048) (i32.load (i32.const 56))))
          (drop (call $close (i32.load (i32.const 16))))))
      (br $l)))
    (i32.const 0)))
