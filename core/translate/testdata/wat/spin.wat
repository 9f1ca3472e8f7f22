;; spin does 1,000 rounds of integer arithmetic per asset and keeps every asset: a
;; CPU-bound guest, for measuring what loop checks cost.
(module
  (import "pbisync" "next" (func $next (result i32)))
  (memory (export "memory") 1)
  (func (export "pbisync_abi_version_1"))
  (func (export "pbisync_translate") (result i32)
    (local $i i32) (local $x i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (call $next)))
      (local.set $i (i32.const 0))
      (loop $spin
        (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 31)) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $spin (i32.lt_u (local.get $i) (i32.const 1000))))
      (i32.store (i32.const 0) (local.get $x))
      (br $l)))
    (i32.const 0)))
