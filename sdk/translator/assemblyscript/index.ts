// AssemblyScript kit for pbisync translators (ABI version 1, see sdk/ABI.md).
//
// Extend Translator, register an instance at the top level of your entry file, and
// re-export the module's exports:
//
//   export { pbisync_abi_version_1, pbisync_init, pbisync_translate } from "./index";
//
// Reads and edits go through the host one field at a time: nothing parses the record.

@external("pbisync", "next") declare function hNext(): i32;
@external("pbisync", "get") declare function hGet(field: i32, index: i32, buf: usize, cap: i32): i32;
@external("pbisync", "count") declare function hCount(field: i32): i32;
@external("pbisync", "lookup") declare function hLookup(field: i32, path: usize, pathLen: i32, buf: usize, cap: i32): i32;
@external("pbisync", "set") declare function hSet(field: i32, p: usize, n: i32): i32;
@external("pbisync", "set_json") declare function hSetJSON(field: i32, p: usize, n: i32): i32;
@external("pbisync", "insert") declare function hInsert(field: i32, index: i32, p: usize, n: i32): i32;
@external("pbisync", "remove") declare function hRemove(field: i32, index: i32): i32;
@external("pbisync", "put") declare function hPut(field: i32, k: usize, kn: i32, v: usize, vn: i32): i32;
@external("pbisync", "delete") declare function hDelete(field: i32, k: usize, kn: i32): i32;
@external("pbisync", "drop") declare function hDrop(): i32;
@external("pbisync", "fail") declare function hFail(p: usize, n: i32): i32;
@external("pbisync", "log") declare function hLog(level: i32, p: usize, n: i32): i32;

const TYPE = 1, ID = 2, NAME = 3, WORKSPACE_ID = 4, WORKSPACE_NAME = 5, WORKSPACE_TYPE = 6,
  RAW = 7, CONFIG = 8, INPUT = 9, SPEC = 16, KEY = 17, DEPS = 18, KINDS = 19, OWNERS = 20,
  DESCRIPTION = 21, GROUP = 22, TAGS = 23, METADATA = 24;

let buf = new ArrayBuffer(1024);
// current is the type code next() returned for the asset being translated.
let current: i32 = 0;

function get(field: i32, index: i32): string | null {
  while (true) {
    const n = hGet(field, index, changetype<usize>(buf), buf.byteLength);
    if (n < 0) return null;
    if (n <= buf.byteLength) return String.UTF8.decodeUnsafe(changetype<usize>(buf), n);
    buf = new ArrayBuffer(n + n / 4);
  }
}

function str(field: i32): string {
  const s = get(field, 0);
  return s === null ? "" : s;
}

function lookup(field: i32, path: string): string | null {
  const p = String.UTF8.encode(path);
  while (true) {
    const n = hLookup(field, changetype<usize>(p), p.byteLength, changetype<usize>(buf), buf.byteLength);
    if (n < 0) return null;
    if (n <= buf.byteLength) return String.UTF8.decodeUnsafe(changetype<usize>(buf), n);
    buf = new ArrayBuffer(n + n / 4);
  }
}

function list(field: i32): string[] {
  const n = hCount(field);
  const out = new Array<string>(0);
  for (let i = 0; i < n; i++) {
    const s = get(field, i);
    out.push(s === null ? "" : s);
  }
  return out;
}

function set(field: i32, v: string): void {
  const b = String.UTF8.encode(v);
  hSet(field, changetype<usize>(b), b.byteLength);
}

function insert(field: i32, index: i32, v: string): void {
  const b = String.UTF8.encode(v);
  hInsert(field, index, changetype<usize>(b), b.byteLength);
}

function put(field: i32, k: string, v: string): void {
  const kb = String.UTF8.encode(k);
  const vb = String.UTF8.encode(v);
  hPut(field, changetype<usize>(kb), kb.byteLength, changetype<usize>(vb), vb.byteLength);
}

function del(field: i32, k: string): void {
  const kb = String.UTF8.encode(k);
  hDelete(field, changetype<usize>(kb), kb.byteLength);
}

function fail(msg: string): void {
  const b = String.UTF8.encode(msg);
  hFail(changetype<usize>(b), b.byteLength);
}

/** The kind of Power BI asset; Other stands for types later snapshots add. */
export enum ContentType { Other, SemanticModel, DataSource, Report, Dashboard }

/** Log levels of log(). */
export enum Level { Debug = -4, Info = 0, Warn = 4, Error = 8 }

/** Writes a line to pbisync's log, tagged with the translator and the asset. */
export function log(level: Level, msg: string): void {
  const b = String.UTF8.encode(msg);
  hLog(level, changetype<usize>(b), b.byteLength);
}

/** The translator's `config` from the pipeline. */
export class Config {
  /** The value at a dotted path: a JSON string unquoted, anything else as JSON text. */
  get(path: string): string | null { return lookup(CONFIG, path); }
  /** The whole config as JSON. */
  json(): string { return str(CONFIG); }
}

/** The asset being translated: inputs, read-only, and its spec, editable. Edits the host
 * refuses fail the asset with the reason, so they return nothing. */
export class Asset {
  typeName(): string { return str(TYPE); }
  contentType(): ContentType {
    if (current == 2) return ContentType.SemanticModel;
    if (current == 3) return ContentType.DataSource;
    if (current == 4) return ContentType.Report;
    if (current == 5) return ContentType.Dashboard;
    const t = str(TYPE);
    if (t == "dashboard") return ContentType.Dashboard;
    if (t == "report") return ContentType.Report;
    if (t == "semantic_model") return ContentType.SemanticModel;
    if (t == "data_source") return ContentType.DataSource;
    return ContentType.Other;
  }
  id(): string { return str(ID); }
  name(): string { return str(NAME); }
  workspaceId(): string { return str(WORKSPACE_ID); }
  workspaceName(): string { return str(WORKSPACE_NAME); }
  workspaceType(): string { return str(WORKSPACE_TYPE); }
  /** A raw Power BI property at a dotted path, e.g. "createdBy" or "tiles.0.reportId". */
  raw(path: string): string | null { return lookup(RAW, path); }
  rawJSON(): string { return str(RAW); }
  /** The whole input as JSON: {"type","raw","workspace","spec"}. */
  inputJSON(): string { return str(INPUT); }

  key(): string[] { return list(KEY); }
  setKey(parts: string[]): void { set(KEY, parts.join("\0")); }
  /** Puts part in front of the key. */
  prefixKey(part: string): void { insert(KEY, 0, part); }
  deps(): string[][] {
    const out = new Array<string[]>(0);
    const d = list(DEPS);
    for (let i = 0; i < d.length; i++) out.push(d[i].split("\0"));
    return out;
  }
  addDep(key: string[]): void { insert(DEPS, -1, key.join("\0")); }
  removeDep(index: i32): void { hRemove(DEPS, index); }
  kinds(): string[] { return list(KINDS); }
  addKind(kind: string): void { insert(KINDS, -1, kind); }
  owners(): string[] { return list(OWNERS); }
  setOwners(owners: string[]): void { set(OWNERS, owners.join("\0")); }
  description(): string { return str(DESCRIPTION); }
  setDescription(d: string): void { set(DESCRIPTION, d); }
  group(): string { return str(GROUP); }
  setGroup(g: string): void { set(GROUP, g); }
  tag(name: string): string | null { return lookup(TAGS, name); }
  tagNames(): string[] { return list(TAGS); }
  setTag(name: string, value: string): void { put(TAGS, name, value); }
  deleteTag(name: string): void { del(TAGS, name); }
  /** A metadata entry as JSON: {"type":"text","value":"..."}. */
  metadataJSON(name: string): string | null { return lookup(METADATA, name); }
  setMetadataJSON(name: string, json: string): void { put(METADATA, name, json); }
  deleteMetadata(name: string): void { del(METADATA, name); }
  /** The whole current spec as JSON. */
  specJSON(): string { return str(SPEC); }
  /** Replaces the whole spec from JSON (its powerbi identity cannot change). */
  setSpecJSON(json: string): void {
    const b = String.UTF8.encode(json);
    hSetJSON(SPEC, changetype<usize>(b), b.byteLength);
  }
  /** Removes the asset from the pipeline. */
  drop(): void { hDrop(); }
}

/** A translator: translate runs once per asset and returns null, or an error message that
 * fails the asset. init reads the config once; a message stops pbisync from starting. */
export abstract class Translator {
  init(config: Config): string | null { return null; }
  abstract translate(asset: Asset): string | null;
}

let handler: Translator | null = null;

/** Registers the module's translator; call it at the top level of the entry file. */
export function register(t: Translator): void { handler = t; }

export function pbisync_abi_version_1(): void {}

export function pbisync_init(): i32 {
  const h = handler;
  if (h === null) {
    fail("no translator registered: call register() in the entry file");
    return 1;
  }
  const err = h.init(new Config());
  if (err !== null) {
    fail(err);
    return 1;
  }
  return 0;
}

const asset = new Asset();

export function pbisync_translate(): i32 {
  const h = handler;
  if (h === null) return 1;
  while ((current = hNext()) != 0) {
    const err = h.translate(asset);
    if (err !== null) fail(err);
  }
  return 0;
}
