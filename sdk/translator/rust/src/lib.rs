//! Rust kit for pbisync translators (ABI version 1, see sdk/ABI.md).
//!
//! Implement [`Translator`] and name the type with [`pbisync_translator!`]; build for
//! `wasm32-unknown-unknown` as a `cdylib`. Reads and edits go through the host one field at
//! a time: nothing parses or re-encodes the record.

mod host {
    #[link(wasm_import_module = "pbisync")]
    extern "C" {
        pub fn next() -> i32;
        pub fn get(field: i32, index: i32, buf: *mut u8, cap: i32) -> i32;
        pub fn count(field: i32) -> i32;
        pub fn lookup(field: i32, path: *const u8, path_len: i32, buf: *mut u8, cap: i32) -> i32;
        pub fn set(field: i32, p: *const u8, n: i32) -> i32;
        pub fn set_json(field: i32, p: *const u8, n: i32) -> i32;
        pub fn insert(field: i32, index: i32, p: *const u8, n: i32) -> i32;
        pub fn remove(field: i32, index: i32) -> i32;
        pub fn put(field: i32, k: *const u8, kn: i32, v: *const u8, vn: i32) -> i32;
        pub fn delete(field: i32, k: *const u8, kn: i32) -> i32;
        pub fn drop() -> i32;
        pub fn fail(p: *const u8, n: i32) -> i32;
        pub fn log(level: i32, p: *const u8, n: i32) -> i32;
    }
}

const TYPE: i32 = 1;
const ID: i32 = 2;
const NAME: i32 = 3;
const WORKSPACE_ID: i32 = 4;
const WORKSPACE_NAME: i32 = 5;
const WORKSPACE_TYPE: i32 = 6;
const RAW: i32 = 7;
const CONFIG: i32 = 8;
const INPUT: i32 = 9;
const SPEC: i32 = 16;
const KEY: i32 = 17;
const DEPS: i32 = 18;
const KINDS: i32 = 19;
const OWNERS: i32 = 20;
const DESCRIPTION: i32 = 21;
const GROUP: i32 = 22;
const TAGS: i32 = 23;
const METADATA: i32 = 24;

fn read(mut call: impl FnMut(*mut u8, i32) -> i32) -> Option<String> {
    let mut buf: Vec<u8> = Vec::with_capacity(256);
    loop {
        let n = call(buf.as_mut_ptr(), buf.capacity() as i32);
        if n < 0 {
            return None;
        }
        let n = n as usize;
        if n <= buf.capacity() {
            // SAFETY: the host wrote n bytes of UTF-8 into the buffer.
            unsafe { buf.set_len(n) };
            return Some(String::from_utf8(buf).unwrap_or_default());
        }
        buf.reserve(n);
    }
}

fn get(field: i32, index: i32) -> Option<String> {
    read(|p, c| unsafe { host::get(field, index, p, c) })
}

fn lookup(field: i32, path: &str) -> Option<String> {
    read(|p, c| unsafe { host::lookup(field, path.as_ptr(), path.len() as i32, p, c) })
}

fn list(field: i32) -> Vec<String> {
    let n = unsafe { host::count(field) };
    (0..n.max(0)).map(|i| get(field, i).unwrap_or_default()).collect()
}

fn set(field: i32, v: &str) {
    unsafe { host::set(field, v.as_ptr(), v.len() as i32) };
}

fn insert(field: i32, index: i32, v: &str) {
    unsafe { host::insert(field, index, v.as_ptr(), v.len() as i32) };
}

fn put(field: i32, k: &str, v: &str) {
    unsafe { host::put(field, k.as_ptr(), k.len() as i32, v.as_ptr(), v.len() as i32) };
}

fn delete(field: i32, k: &str) {
    unsafe { host::delete(field, k.as_ptr(), k.len() as i32) };
}

/// The kind of Power BI asset. `Other` holds types later snapshots add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentType {
    SemanticModel,
    DataSource,
    Report,
    Dashboard,
    Other(String),
}

/// The asset's workspace.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    pub kind: String,
}

/// Log levels of [`log`].
#[derive(Debug, Clone, Copy)]
pub enum Level {
    Debug = -4,
    Info = 0,
    Warn = 4,
    Error = 8,
}

/// Writes a line to pbisync's log, tagged with the translator and the asset.
pub fn log(level: Level, msg: &str) {
    unsafe { host::log(level as i32, msg.as_ptr(), msg.len() as i32) };
}

/// The translator's `config` from the pipeline.
pub struct Config {
    _private: (),
}

impl Config {
    /// The value at a dotted path: a JSON string unquoted, anything else as JSON text.
    pub fn get(&self, path: &str) -> Option<String> {
        lookup(CONFIG, path)
    }
    /// The whole config as JSON (`{}` when the pipeline gives none).
    pub fn json(&self) -> String {
        get(CONFIG, 0).unwrap_or_default()
    }
}

/// The asset being translated: its inputs, read-only, and its spec, editable. Edits the
/// host refuses fail the asset with the reason, so they return nothing.
pub struct Asset {
    code: i32, // the type code next returned
}

impl Asset {
    pub fn content_type(&self) -> ContentType {
        match self.code {
            2 => return ContentType::SemanticModel,
            3 => return ContentType::DataSource,
            4 => return ContentType::Report,
            5 => return ContentType::Dashboard,
            _ => {}
        }
        match get(TYPE, 0).unwrap_or_default().as_str() {
            "semantic_model" => ContentType::SemanticModel,
            "data_source" => ContentType::DataSource,
            "report" => ContentType::Report,
            "dashboard" => ContentType::Dashboard,
            other => ContentType::Other(other.to_string()),
        }
    }
    pub fn id(&self) -> String {
        get(ID, 0).unwrap_or_default()
    }
    pub fn name(&self) -> String {
        get(NAME, 0).unwrap_or_default()
    }
    pub fn workspace(&self) -> Workspace {
        Workspace {
            id: get(WORKSPACE_ID, 0).unwrap_or_default(),
            name: get(WORKSPACE_NAME, 0).unwrap_or_default(),
            kind: get(WORKSPACE_TYPE, 0).unwrap_or_default(),
        }
    }
    /// A raw Power BI property at a dotted path, e.g. `createdBy` or `tiles.0.reportId`.
    pub fn raw(&self, path: &str) -> Option<String> {
        lookup(RAW, path)
    }
    pub fn raw_json(&self) -> String {
        get(RAW, 0).unwrap_or_default()
    }
    /// The whole input as JSON: `{"type","raw","workspace","spec"}`.
    pub fn input_json(&self) -> String {
        get(INPUT, 0).unwrap_or_default()
    }
    pub fn key(&self) -> Vec<String> {
        list(KEY)
    }
    pub fn set_key(&mut self, parts: &[&str]) {
        set(KEY, &parts.join("\0"));
    }
    /// Puts `part` in front of the key.
    pub fn prefix_key(&mut self, part: &str) {
        insert(KEY, 0, part);
    }
    pub fn deps(&self) -> Vec<Vec<String>> {
        list(DEPS).iter().map(|d| d.split('\0').map(String::from).collect()).collect()
    }
    pub fn add_dep(&mut self, key: &[&str]) {
        insert(DEPS, -1, &key.join("\0"));
    }
    pub fn remove_dep(&mut self, index: usize) {
        unsafe { host::remove(DEPS, index as i32) };
    }
    pub fn kinds(&self) -> Vec<String> {
        list(KINDS)
    }
    pub fn add_kind(&mut self, kind: &str) {
        insert(KINDS, -1, kind);
    }
    pub fn owners(&self) -> Vec<String> {
        list(OWNERS)
    }
    pub fn set_owners(&mut self, owners: &[&str]) {
        set(OWNERS, &owners.join("\0"));
    }
    pub fn description(&self) -> String {
        get(DESCRIPTION, 0).unwrap_or_default()
    }
    pub fn set_description(&mut self, d: &str) {
        set(DESCRIPTION, d);
    }
    pub fn group(&self) -> String {
        get(GROUP, 0).unwrap_or_default()
    }
    pub fn set_group(&mut self, g: &str) {
        set(GROUP, g);
    }
    pub fn tag(&self, name: &str) -> Option<String> {
        lookup(TAGS, name)
    }
    pub fn tag_names(&self) -> Vec<String> {
        list(TAGS)
    }
    pub fn set_tag(&mut self, name: &str, value: &str) {
        put(TAGS, name, value);
    }
    pub fn delete_tag(&mut self, name: &str) {
        delete(TAGS, name);
    }
    /// A metadata entry as JSON: `{"type":"text","value":"..."}`.
    pub fn metadata_json(&self, name: &str) -> Option<String> {
        lookup(METADATA, name)
    }
    pub fn set_metadata_json(&mut self, name: &str, json: &str) {
        put(METADATA, name, json);
    }
    pub fn set_metadata_text(&mut self, name: &str, value: &str) {
        let mut j = String::from(r#"{"type":"text","value":""#);
        for c in value.chars() {
            match c {
                '"' => j.push_str("\\\""),
                '\\' => j.push_str("\\\\"),
                c if (c as u32) < 0x20 => j.push_str(&format!("\\u{:04x}", c as u32)),
                c => j.push(c),
            }
        }
        j.push_str("\"}");
        put(METADATA, name, &j);
    }
    pub fn delete_metadata(&mut self, name: &str) {
        delete(METADATA, name);
    }
    /// The whole current spec as JSON.
    pub fn spec_json(&self) -> String {
        get(SPEC, 0).unwrap_or_default()
    }
    /// Replaces the whole spec from JSON (its `powerbi` identity cannot change).
    pub fn set_spec_json(&mut self, json: &str) {
        unsafe { host::set_json(SPEC, json.as_ptr(), json.len() as i32) };
    }
    /// Removes the asset from the pipeline.
    pub fn drop_asset(&mut self) {
        unsafe { host::drop() };
    }
}

/// A translator. `translate` runs once per asset; an `Err` fails that asset and the
/// pipeline's `on_error` decides what happens next.
pub trait Translator {
    /// Reads the config once at start; an `Err` stops pbisync from starting.
    fn init(&mut self, _config: &Config) -> Result<(), String> {
        Ok(())
    }
    fn translate(&mut self, asset: &mut Asset) -> Result<(), String>;
}

#[doc(hidden)]
pub fn __init<T: Translator>(t: &mut T) -> i32 {
    match t.init(&Config { _private: () }) {
        Ok(()) => 0,
        Err(e) => {
            unsafe { host::fail(e.as_ptr(), e.len() as i32) };
            1
        }
    }
}

#[doc(hidden)]
pub fn __translate<T: Translator>(t: &mut T) -> i32 {
    let mut asset = Asset { code: 0 };
    loop {
        asset.code = unsafe { host::next() };
        if asset.code == 0 {
            break;
        }
        if let Err(e) = t.translate(&mut asset) {
            unsafe { host::fail(e.as_ptr(), e.len() as i32) };
        }
    }
    0
}

/// Names the module's translator: `pbisync_translator!(MyTranslator, MyTranslator::new());`
/// defines the exports the host calls.
#[macro_export]
macro_rules! pbisync_translator {
    ($ty:ty, $make:expr) => {
        static mut __PBISYNC_T: Option<$ty> = None;
        fn __pbisync_t() -> &'static mut $ty {
            // SAFETY: a module instance is single-threaded and the host never re-enters it.
            unsafe { __PBISYNC_T.get_or_insert_with(|| $make) }
        }
        #[no_mangle]
        pub extern "C" fn pbisync_abi_version_1() {}
        #[no_mangle]
        pub extern "C" fn pbisync_init() -> i32 {
            $crate::__init(__pbisync_t())
        }
        #[no_mangle]
        pub extern "C" fn pbisync_translate() -> i32 {
            $crate::__translate(__pbisync_t())
        }
    };
}
