;; sleep asks poll_oneoff for a one-hour monotonic-clock sleep on every report; other
;; assets pass unchanged.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "pbisync" "next" (func $next (result i32)))
  (import "pbisync" "get" (func $get (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; subscription_t at 256: userdata 0, tag 0 (clock), id 1 (monotonic), timeout 1 h
  (data (i32.const 272) "\01\00\00\00\00\00\00\00\00\a0\b8\30\46\03\00\00")
  (func (export "pbisync_abi_version_1"))
  (func (export "pbisync_translate") (result i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (call $next)))
      (drop (call $get (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 16)))
      (if (i32.eq (i32.load8_u (i32.const 0)) (i32.const 114)) ;; 'r'eport
        (then (drop (call $poll (i32.const 256) (i32.const 512) (i32.const 1) (i32.const 600)))))
      (br $l)))
    (i32.const 0)))
