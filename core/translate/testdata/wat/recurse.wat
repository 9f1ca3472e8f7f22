;; recurse computes fib(90) by naive recursion on every report: no loop at all, and far
;; too long to finish; only the checks at function entry can stop it.
(module
  (import "pbisync" "next" (func $next (result i32)))
  (import "pbisync" "get" (func $get (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func $fib (param $n i64) (result i64)
    (if (result i64) (i64.lt_u (local.get $n) (i64.const 2))
      (then (local.get $n))
      (else (i64.add (call $fib (i64.sub (local.get $n) (i64.const 1)))
                     (call $fib (i64.sub (local.get $n) (i64.const 2)))))))
  (func (export "pbisync_abi_version_1"))
  (func (export "pbisync_translate") (result i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (call $next)))
      (drop (call $get (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 16)))
      (if (i32.eq (i32.load8_u (i32.const 0)) (i32.const 114))
        (then (i64.store (i32.const 64) (call $fib (i64.const 90)))))
      (br $l)))
    (i32.const 0)))
