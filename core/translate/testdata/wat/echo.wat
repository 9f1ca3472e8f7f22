;; echo writes its config back as each asset's output, for the fuzz target: byte 0 picks
;; the host function (0 set, 1 set_json, 2 insert, 3 put, 4 remove), byte 1 the field,
;; the rest is the value (for put: split in the middle into name and value).
(module
  (import "pbisync" "next" (func $next (result i32)))
  (import "pbisync" "get" (func $get (param i32 i32 i32 i32) (result i32)))
  (import "pbisync" "set" (func $set (param i32 i32 i32) (result i32)))
  (import "pbisync" "set_json" (func $set_json (param i32 i32 i32) (result i32)))
  (import "pbisync" "insert" (func $insert (param i32 i32 i32 i32) (result i32)))
  (import "pbisync" "put" (func $put (param i32 i32 i32 i32 i32) (result i32)))
  (import "pbisync" "remove" (func $remove (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $n (mut i32) (i32.const 0))
  (func (export "pbisync_abi_version_1"))
  (func (export "pbisync_translate") (result i32)
    (local $op i32) (local $f i32) (local $len i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (call $next)))
      (local.set $len (call $get (i32.const 8) (i32.const 0) (i32.const 0) (i32.const 65536)))
      (if (i32.ge_s (local.get $len) (i32.const 2)) (then
        (local.set $len (i32.sub (local.get $len) (i32.const 2)))
        (local.set $op (i32.load8_u (i32.const 0)))
        (local.set $f (i32.load8_u (i32.const 1)))
        (if (i32.eq (i32.rem_u (local.get $op) (i32.const 5)) (i32.const 0)) (then (drop (call $set (local.get $f) (i32.const 2) (local.get $len)))))
        (if (i32.eq (i32.rem_u (local.get $op) (i32.const 5)) (i32.const 1)) (then (drop (call $set_json (local.get $f) (i32.const 2) (local.get $len)))))
        (if (i32.eq (i32.rem_u (local.get $op) (i32.const 5)) (i32.const 2)) (then (drop (call $insert (local.get $f) (i32.sub (local.get $op) (i32.const 128)) (i32.const 2) (local.get $len)))))
        (if (i32.eq (i32.rem_u (local.get $op) (i32.const 5)) (i32.const 3)) (then (drop (call $put (local.get $f)
            (i32.const 2) (i32.shr_u (local.get $len) (i32.const 1))
            (i32.add (i32.const 2) (i32.shr_u (local.get $len) (i32.const 1))) (i32.sub (local.get $len) (i32.shr_u (local.get $len) (i32.const 1)))))))
        (if (i32.eq (i32.rem_u (local.get $op) (i32.const 5)) (i32.const 4)) (then (drop (call $remove (local.get $f) (local.get $len)))))))
      (br $l)))
    (i32.const 0)))
