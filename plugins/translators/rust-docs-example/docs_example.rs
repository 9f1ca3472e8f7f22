//! The translator from the dagster-powerbi docs, in Rust: dashboards get a prefix in front
//! of their key (config `prefix`, default `prefix`) and `team:my_team` as their owner.
use pbisync_translator::{pbisync_translator, Asset, Config, ContentType, Translator};

struct DocsExample {
    prefix: String,
}

impl Translator for DocsExample {
    fn init(&mut self, config: &Config) -> Result<(), String> {
        self.prefix = config.get("prefix").unwrap_or_else(|| "prefix".to_string());
        if self.prefix.is_empty() {
            return Err("config: prefix must not be empty".into());
        }
        Ok(())
    }

    fn translate(&mut self, asset: &mut Asset) -> Result<(), String> {
        if asset.content_type() == ContentType::Dashboard {
            asset.prefix_key(&self.prefix);
            asset.set_owners(&["team:my_team"]);
        }
        Ok(())
    }
}

pbisync_translator!(DocsExample, DocsExample { prefix: String::new() });
