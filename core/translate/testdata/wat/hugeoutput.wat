;; hugeoutput writes DESCRIPTION with 60,000 bytes until the host refuses (max_output),
;; then asks for a 2 GiB value, then moves on: every asset fails, nothing is copied
;; out of bounds.
(module
  (import "pbisync" "next" (func $next (result i32)))
  (import "pbisync" "set" (func $set (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "pbisync_abi_version_1"))
  (func (export "pbisync_translate") (result i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (call $next)))
      (block $refused (loop $write
        (br_if $refused (i32.ne (call $set (i32.const 21) (i32.const 0) (i32.const 60000)) (i32.const 0)))
        (br $write)))
      (drop (call $set (i32.const 21) (i32.const 0) (i32.const 0x7fffffff)))
      (br $l)))
    (i32.const 0)))
