/* pbisync.h: the C kit for pbisync translators (ABI version 1, sdk/ABI.md).
 *
 * Include it in one .c file, write an init and a translate function, and name them with
 * PBISYNC_TRANSLATOR(init, translate). Build a WASI reactor:
 *
 *   clang --target=wasm32-wasi -O2 -mexec-model=reactor -o my.wasm my.c
 *
 * Reads copy into a buffer you give (pbs_read_*) or into a malloc'd string you free
 * (pbs_*_dup). Edits go to the host one field at a time; the host refuses bad values
 * and fails the asset with the reason, so edits need no error checks.
 */
#ifndef PBISYNC_H
#define PBISYNC_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PBS_IMPORT(name) __attribute__((import_module("pbisync"), import_name(name)))

PBS_IMPORT("next") int32_t pbs__next(void);
PBS_IMPORT("get") int32_t pbs__get(int32_t field, int32_t index, char *buf, int32_t cap);
PBS_IMPORT("count") int32_t pbs__count(int32_t field);
PBS_IMPORT("lookup") int32_t pbs__lookup(int32_t field, const char *path, int32_t path_len, char *buf, int32_t cap);
PBS_IMPORT("set") int32_t pbs__set(int32_t field, const char *p, int32_t n);
PBS_IMPORT("set_json") int32_t pbs__set_json(int32_t field, const char *p, int32_t n);
PBS_IMPORT("insert") int32_t pbs__insert(int32_t field, int32_t index, const char *p, int32_t n);
PBS_IMPORT("remove") int32_t pbs__remove(int32_t field, int32_t index);
PBS_IMPORT("put") int32_t pbs__put(int32_t field, const char *k, int32_t kn, const char *v, int32_t vn);
PBS_IMPORT("delete") int32_t pbs__delete(int32_t field, const char *k, int32_t kn);
PBS_IMPORT("drop") int32_t pbs__drop(void);
PBS_IMPORT("fail") int32_t pbs__fail(const char *p, int32_t n);
PBS_IMPORT("log") int32_t pbs__log(int32_t level, const char *p, int32_t n);

/* Fields of the ABI. */
enum pbs_field {
	PBS_TYPE = 1, PBS_ID = 2, PBS_NAME = 3, PBS_WORKSPACE_ID = 4, PBS_WORKSPACE_NAME = 5,
	PBS_WORKSPACE_TYPE = 6, PBS_RAW = 7, PBS_CONFIG = 8, PBS_INPUT = 9,
	PBS_SPEC = 16, PBS_KEY = 17, PBS_DEPS = 18, PBS_KINDS = 19, PBS_OWNERS = 20,
	PBS_DESCRIPTION = 21, PBS_GROUP = 22, PBS_TAGS = 23, PBS_METADATA = 24
};

/* Content types. PBS_OTHER stands for types later snapshots add. */
enum pbs_type { PBS_OTHER = 0, PBS_SEMANTIC_MODEL, PBS_DATA_SOURCE, PBS_REPORT, PBS_DASHBOARD };

/* What translate returns for the current asset. */
enum pbs_result { PBS_KEEP = 0, PBS_DROP = 1, PBS_ERROR = 2 };

enum pbs_log_level { PBS_DEBUG = -4, PBS_INFO = 0, PBS_WARN = 4, PBS_ERROR_LEVEL = 8 };

/* pbs_read copies a field (index: item of a list or map) into buf, NUL-terminated, and
 * returns its full length, or -1 when absent. A result >= cap means it was cut. */
static inline int32_t pbs_read(enum pbs_field f, int32_t index, char *buf, int32_t cap) {
	int32_t n = pbs__get(f, index, buf, cap > 0 ? cap - 1 : 0);
	if (cap > 0) buf[n < 0 ? 0 : (n < cap - 1 ? n : cap - 1)] = 0;
	return n;
}

/* pbs_dup returns a field as a malloc'd string (free it), or NULL when absent. */
static inline char *pbs_dup(enum pbs_field f, int32_t index) {
	int32_t n = pbs__get(f, index, NULL, 0);
	if (n < 0) return NULL;
	char *s = (char *)malloc((size_t)n + 1);
	if (!s) return NULL;
	pbs__get(f, index, s, n);
	s[n] = 0;
	return s;
}

/* pbs_lookup_dup returns the value at a dotted path of PBS_RAW or PBS_CONFIG (a JSON
 * string unquoted, anything else as JSON), a tag's value or a metadata entry's JSON, as
 * a malloc'd string (free it), or NULL when absent. */
static inline char *pbs_lookup_dup(enum pbs_field f, const char *path) {
	int32_t pl = (int32_t)strlen(path);
	int32_t n = pbs__lookup(f, path, pl, NULL, 0);
	if (n < 0) return NULL;
	char *s = (char *)malloc((size_t)n + 1);
	if (!s) return NULL;
	pbs__lookup(f, path, pl, s, n);
	s[n] = 0;
	return s;
}

/* pbs__current is the type code next returned for the current asset. */
static int32_t pbs__current;

/* pbs_type returns the content type of the current asset. */
static inline enum pbs_type pbs_type(void) {
	switch (pbs__current) {
	case 2: return PBS_SEMANTIC_MODEL;
	case 3: return PBS_DATA_SOURCE;
	case 4: return PBS_REPORT;
	case 5: return PBS_DASHBOARD;
	}
	char t[32];
	pbs_read(PBS_TYPE, 0, t, sizeof t);
	if (!strcmp(t, "dashboard")) return PBS_DASHBOARD;
	if (!strcmp(t, "report")) return PBS_REPORT;
	if (!strcmp(t, "semantic_model")) return PBS_SEMANTIC_MODEL;
	if (!strcmp(t, "data_source")) return PBS_DATA_SOURCE;
	return PBS_OTHER;
}

static inline char *pbs_raw(const char *path) { return pbs_lookup_dup(PBS_RAW, path); }
static inline char *pbs_config(const char *path) { return pbs_lookup_dup(PBS_CONFIG, path); }
static inline int32_t pbs_count(enum pbs_field list) { return pbs__count(list); }

/* Key, kinds, owners, deps: lists. pbs_list_insert(f, -1, v) appends. */
static inline void pbs_list_insert(enum pbs_field f, int32_t index, const char *v) { pbs__insert(f, index, v, (int32_t)strlen(v)); }
static inline void pbs_list_remove(enum pbs_field f, int32_t index) { pbs__remove(f, index); }
static inline void pbs_list_set(enum pbs_field f, const char *const *items, int n) {
	size_t len = 0;
	for (int i = 0; i < n; i++) len += strlen(items[i]) + 1;
	char *joined = (char *)malloc(len + 1), *p = joined;
	if (!joined) return;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(items[i]);
		memcpy(p, items[i], l);
		p += l;
		if (i + 1 < n) *p++ = 0;
	}
	pbs__set(f, joined, (int32_t)(p - joined));
	free(joined);
}

static inline void pbs_key_prefix(const char *part) { pbs_list_insert(PBS_KEY, 0, part); }
static inline void pbs_key_set(const char *const *parts, int n) { pbs_list_set(PBS_KEY, parts, n); }
static inline void pbs_owners_set(const char *const *owners, int n) { pbs_list_set(PBS_OWNERS, owners, n); }
static inline void pbs_kind_add(const char *kind) { pbs_list_insert(PBS_KINDS, -1, kind); }
/* pbs_dep_add adds a dependency; parts of its key joined by '\0', length given. */
static inline void pbs_dep_add(const char *key, int32_t len) { pbs__insert(PBS_DEPS, -1, key, len); }

static inline void pbs_description_set(const char *d) { pbs__set(PBS_DESCRIPTION, d, (int32_t)strlen(d)); }
static inline void pbs_group_set(const char *g) { pbs__set(PBS_GROUP, g, (int32_t)strlen(g)); }
static inline void pbs_tag_set(const char *name, const char *value) { pbs__put(PBS_TAGS, name, (int32_t)strlen(name), value, (int32_t)strlen(value)); }
static inline void pbs_tag_delete(const char *name) { pbs__delete(PBS_TAGS, name, (int32_t)strlen(name)); }
/* pbs_metadata_set sets an entry from its JSON: {"type":"text","value":"..."}. */
static inline void pbs_metadata_set(const char *name, const char *json) { pbs__put(PBS_METADATA, name, (int32_t)strlen(name), json, (int32_t)strlen(json)); }
static inline void pbs_metadata_delete(const char *name) { pbs__delete(PBS_METADATA, name, (int32_t)strlen(name)); }

/* Whole JSON in and out, for translators that prefer it. */
static inline char *pbs_input_json(void) { return pbs_dup(PBS_INPUT, 0); }
static inline void pbs_spec_set_json(const char *json) { pbs__set_json(PBS_SPEC, json, (int32_t)strlen(json)); }

static inline void pbs_fail(const char *msg) { pbs__fail(msg, (int32_t)strlen(msg)); }
static inline void pbs_log(enum pbs_log_level level, const char *msg) { pbs__log(level, msg, (int32_t)strlen(msg)); }

/* PBISYNC_TRANSLATOR defines the module's exports. init (may be NULL) runs once and
 * returns 0, or calls pbs_fail and returns non-zero; translate runs per asset and returns
 * a pbs_result (PBS_ERROR after pbs_fail). */
#define PBISYNC_TRANSLATOR(init_fn, translate_fn)                                          \
	__attribute__((export_name("pbisync_abi_version_1"))) void pbisync_abi_version_1(void) {} \
	__attribute__((export_name("pbisync_init"))) int32_t pbisync_init(void) {                 \
		int (*f)(void) = (init_fn);                                                        \
		return f ? f() : 0;                                                                \
	}                                                                                          \
	__attribute__((export_name("pbisync_translate"))) int32_t pbisync_translate(void) {       \
		while ((pbs__current = pbs__next()) != 0) {                                        \
			switch ((translate_fn)()) {                                                \
			case PBS_DROP: pbs__drop(); break;                                         \
			case PBS_ERROR: pbs__fail("", 0); break;                                   \
			default: break;                                                            \
			}                                                                          \
		}                                                                                  \
		return 0;                                                                          \
	}

#endif
