;; notranslate declares the ABI but exports no pbisync_translate.
(module
  (memory (export "memory") 1)
  (func (export "pbisync_abi_version_1")))
