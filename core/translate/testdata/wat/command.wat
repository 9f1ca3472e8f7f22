;; command is a WASI command: it exports _start.
(module
  (memory (export "memory") 1)
  (func (export "_start"))
  (func (export "pbisync_abi_version_1"))
  (func (export "pbisync_translate") (result i32) (i32.const 0)))
