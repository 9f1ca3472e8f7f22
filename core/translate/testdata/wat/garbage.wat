;; garbage returns a bad result chosen by the first digit of the asset's ID:
;; 0 invalid JSON spec, 1 empty key, 2 metadata of the wrong type, 3 key with an empty
;; part, 4 a buffer outside memory (trap), 5 fail with a message, 6 drop.
(module
  (import "pbisync" "next" (func $next (result i32)))
  (import "pbisync" "get" (func $get (param i32 i32 i32 i32) (result i32)))
  (import "pbisync" "set" (func $set (param i32 i32 i32) (result i32)))
  (import "pbisync" "set_json" (func $set_json (param i32 i32 i32) (result i32)))
  (import "pbisync" "put" (func $put (param i32 i32 i32 i32 i32) (result i32)))
  (import "pbisync" "fail" (func $fail (param i32 i32) (result i32)))
  (import "pbisync" "drop" (func $drop (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 1024) "not json")
  (data (i32.const 1100) "n")
  (data (i32.const 1200) "{\"type\":\"int\",\"value\":\"x\"}")
  (data (i32.const 1300) "a\00")
  (data (i32.const 1400) "the asset is cursed")
  (func (export "pbisync_abi_version_1"))
  (func (export "pbisync_translate") (result i32)
    (local $i i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (call $next)))
      (drop (call $get (i32.const 2) (i32.const 0) (i32.const 0) (i32.const 16)))
      (local.set $i (i32.sub (i32.load8_u (i32.const 0)) (i32.const 48)))
      (block $case
        (if (i32.eq (local.get $i) (i32.const 0)) (then (drop (call $set_json (i32.const 16) (i32.const 1024) (i32.const 8))) (br $case)))
        (if (i32.eq (local.get $i) (i32.const 1)) (then (drop (call $set (i32.const 17) (i32.const 0) (i32.const 0))) (br $case)))
        (if (i32.eq (local.get $i) (i32.const 2)) (then (drop (call $put (i32.const 24) (i32.const 1100) (i32.const 1) (i32.const 1200) (i32.const 26))) (br $case)))
        (if (i32.eq (local.get $i) (i32.const 3)) (then (drop (call $set (i32.const 17) (i32.const 1300) (i32.const 2))) (br $case)))
        (if (i32.eq (local.get $i) (i32.const 4)) (then (drop (call $get (i32.const 7) (i32.const 0) (i32.const -16) (i32.const 100))) (br $case)))
        (if (i32.eq (local.get $i) (i32.const 5)) (then (drop (call $fail (i32.const 1400) (i32.const 19))) (br $case)))
        (if (i32.eq (local.get $i) (i32.const 6)) (then (drop (call $drop)) (br $case))))
      (br $l)))
    (i32.const 0)))
