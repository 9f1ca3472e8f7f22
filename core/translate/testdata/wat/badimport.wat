;; badimport imports a host function the ABI does not have.
(module
  (import "pbisync" "open_socket" (func $sock (result i32)))
  (memory (export "memory") 1)
  (func (export "pbisync_abi_version_1"))
  (func (export "pbisync_translate") (result i32) (call $sock)))
