;; stale works on the first call of each instance and traps before its first next on
;; every later call, as a guest whose state earlier batches corrupted would.
(module
  (import "pbisync" "next" (func $next (result i32)))
  (memory (export "memory") 1)
  (global $calls (mut i32) (i32.const 0))
  (func (export "pbisync_abi_version_1"))
  (func (export "pbisync_translate") (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (i32.gt_u (global.get $calls) (i32.const 1)) (then unreachable))
    (block $done (loop $l (br_if $done (i32.eqz (call $next))) (br $l)))
    (i32.const 0)))
