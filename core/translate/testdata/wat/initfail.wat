;; initfail refuses to start, as a translator missing required config would.
(module
  (import "pbisync" "fail" (func $fail (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "config needs a prefix")
  (func (export "pbisync_abi_version_1"))
  (func (export "pbisync_init") (result i32) (drop (call $fail (i32.const 0) (i32.const 21))) (i32.const 1))
  (func (export "pbisync_translate") (result i32) (i32.const 0)))
