;; insertflood appends empty KINDS items forever and ignores every result: the host
;; must charge each call and end the asset, not grow without bound.
(module
  (import "pbisync" "next" (func $next (result i32)))
  (import "pbisync" "insert" (func $insert (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "pbisync_abi_version_1"))
  (func (export "pbisync_translate") (result i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (call $next)))
      (loop $flood
        (drop (call $insert (i32.const 19) (i32.const -1) (i32.const 0) (i32.const 0)))
        (br $flood))))
    (i32.const 0)))
