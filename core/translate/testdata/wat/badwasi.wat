;; badwasi imports wasi_snapshot_preview1.fd_write with a wrong signature.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "pbisync_abi_version_1"))
  (func (export "pbisync_translate") (result i32) (i32.const 0)))
