/*
 * diffusiond external operation plugin ABI, version 1.
 *
 * A plugin is a shared library placed in the folder given to `diffusiond serve --plugins DIR` (every
 * `*.so` file there is loaded at start). It exports one function:
 *
 *     const diffusiond_plugin_v1 *diffusiond_plugin_entry(void);
 *
 * returning a pointer to a static descriptor. The daemon publishes `method`, `summary` and
 * `params_schema_json` in `capabilities`, validates every request's params against the schema before
 * calling `run`, and calls `run` on its single worker thread (never concurrently with itself).
 *
 * See protocol/plugins.md for the full contract (threading, memory ownership, errors, cancellation).
 */
#ifndef DIFFUSIOND_PLUGIN_H
#define DIFFUSIOND_PLUGIN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DIFFUSIOND_PLUGIN_ABI_VERSION 1u

/* Return codes of run(). */
#define DIFFUSIOND_OK 0
#define DIFFUSIOND_CANCELLED 1    /* the plugin saw is_cancelled() and stopped */
#define DIFFUSIOND_FAILED 2       /* *error_message explains why (a sentence a person can act on) */
#define DIFFUSIOND_INVALID_PARAMS 3 /* like FAILED, reported as JSON-RPC -32602 */

/* Services the daemon offers to a running plugin. Valid only during the run() call. */
typedef struct diffusiond_host_v1 {
    void *context; /* pass back unchanged */
    /* Progress: stage name (UTF-8), step of steps (steps may be 0 when unknown). */
    void (*progress)(void *context, const char *stage, int64_t step, int64_t steps);
    /* Non-zero once the job is cancelled (client request, disconnect, shutdown): return DIFFUSIOND_CANCELLED soon. */
    int (*is_cancelled)(void *context);
} diffusiond_host_v1;

typedef struct diffusiond_plugin_v1 {
    uint32_t abi_version;            /* DIFFUSIOND_PLUGIN_ABI_VERSION */
    const char *method;              /* JSON-RPC method name, [a-z0-9_.-]+, unique among all operations */
    const char *summary;             /* one sentence for capabilities */
    const char *params_schema_json;  /* JSON Schema of the params object (the subset in protocol/README.md) */
    /*
     * params_json: the validated params object (UTF-8 JSON, NUL-terminated).
     * On DIFFUSIOND_OK set *result_json to a JSON object (the response's result).
     * On DIFFUSIOND_FAILED / DIFFUSIOND_INVALID_PARAMS set *error_message.
     * Strings returned through result_json / error_message are released with free_string().
     */
    int (*run)(const char *params_json, const diffusiond_host_v1 *host, char **result_json, char **error_message);
    void (*free_string)(char *s);
} diffusiond_plugin_v1;

typedef const diffusiond_plugin_v1 *(*diffusiond_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif
