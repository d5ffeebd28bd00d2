/* One JSON-RPC 2.0 job on its own connection to diffusiond (line-delimited JSON over a Unix socket). */
#pragma once
#include <gio/gio.h>
#include <json-glib/json-glib.h>

#define DIFFUSIOND_ERROR (diffusiond_error_quark())
GQuark diffusiond_error_quark(void);

/* GError codes in DIFFUSIOND_ERROR: the daemon's own JSON-RPC error codes (negative) pass through as they
 * are; these positive ones are the client's. */
enum {
    DIFFUSIOND_ERROR_CONNECT = 1, /* nobody listens on the socket */
    DIFFUSIOND_ERROR_IO = 2,      /* the connection broke or the daemon sent garbage */
    DIFFUSIOND_ERROR_LOCAL = 3,   /* something on our side: a temp file, a selection, an image mode */
    DIFFUSIOND_ERROR_CANCELLED = 4, /* the user cancelled the job (the connection was closed) */
};

/* $DIFFUSIOND_SOCKET, else the daemon's default: $XDG_RUNTIME_DIR/diffusiond/diffusiond.sock, else
 * /tmp/diffusiond-$UID/diffusiond.sock. Newly allocated. */
gchar *rpc_default_socket(void);

/* Called for each notification (queued, started, progress) of the job. */
typedef void (*RpcNotifyFunc)(const gchar *method, JsonObject *params, gpointer user_data);

/* Sends one request with `params` (borrowed), blocks until its response, and returns the result node (caller
 * frees with json_node_unref). On an error response returns NULL with the daemon's code and message. Closing
 * the connection when this returns ends the job's life on the daemon, as the protocol defines. */
JsonNode *rpc_call(const gchar *socket_path, const gchar *method, JsonObject *params,
                   RpcNotifyFunc notify, gpointer user_data, GError **error);

/* Called about every 100 ms while the answer is awaited (a window stays responsive). */
typedef void (*RpcIdleFunc)(gpointer user_data);

typedef struct {
    RpcNotifyFunc notify;      /* or NULL */
    RpcIdleFunc idle;          /* or NULL: then the wait blocks */
    gpointer user_data;        /* for both */
    GCancellable *cancellable; /* or NULL; once cancelled the call returns DIFFUSIOND_ERROR_CANCELLED and closes
                                * the connection, which cancels the job on the daemon (-32800) */
} RpcHandlers;

/* rpc_call with an idle callback and a cancellable. */
JsonNode *rpc_call_with(const gchar *socket_path, const gchar *method, JsonObject *params,
                        const RpcHandlers *handlers, GError **error);
