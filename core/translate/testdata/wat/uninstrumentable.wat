;; uninstrumentable is loop.wat with an export named pbisync_stop, which the host reserves:
;; it cannot be instrumented and runs with wazero's close-on-context-done instead.
(module
  (import "pbisync" "next" (func $next (result i32)))
  (import "pbisync" "get" (func $get (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global (export "pbisync_stop") i32 (i32.const 0))
  (func (export "pbisync_abi_version_1"))
  (func (export "pbisync_translate") (result i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (call $next)))
      (drop (call $get (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 16)))
      (if (i32.eq (i32.load8_u (i32.const 0)) (i32.const 114)) (then (loop $spin (br $spin))))
      (br $l)))
    (i32.const 0)))
