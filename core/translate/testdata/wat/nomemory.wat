;; nomemory exports no memory.
(module
  (func (export "pbisync_abi_version_1"))
  (func (export "pbisync_translate") (result i32) (i32.const 0)))
