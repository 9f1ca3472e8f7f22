;; bigmem starts with 2,000 pages (125 MiB) of memory, more than the default limit.
(module
  (memory (export "memory") 2000)
  (func (export "pbisync_abi_version_1"))
  (func (export "pbisync_translate") (result i32) (i32.const 0)))
