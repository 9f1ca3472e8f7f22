//! noop keeps every asset unchanged: the host overhead of the Rust kit.
use pbisync_translator::{pbisync_translator, Asset, Translator};

struct Noop;

impl Translator for Noop {
    fn translate(&mut self, _asset: &mut Asset) -> Result<(), String> {
        Ok(())
    }
}

pbisync_translator!(Noop, Noop);
