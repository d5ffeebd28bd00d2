#include "rpc.h"

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <string.h>
#include <unistd.h>

G_DEFINE_QUARK(diffusiond-error-quark, diffusiond_error)

gchar *rpc_default_socket(void)
{
    const gchar *env = g_getenv("DIFFUSIOND_SOCKET");
    if (env != NULL && env[0] != '\0')
        return g_strdup(env);
    const gchar *runtime = g_getenv("XDG_RUNTIME_DIR");
    if (runtime != NULL && runtime[0] == '/')
        return g_build_filename(runtime, "diffusiond", "diffusiond.sock", NULL);
    return g_strdup_printf("/tmp/diffusiond-%u/diffusiond.sock", (unsigned)getuid());
}

static gchar *request_line(const gchar *method, JsonObject *params)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "jsonrpc");
    json_builder_add_string_value(b, "2.0");
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, 1);
    json_builder_set_member_name(b, "method");
    json_builder_add_string_value(b, method);
    json_builder_set_member_name(b, "params");
    JsonNode *p = json_node_new(JSON_NODE_OBJECT);
    json_node_set_object(p, params);
    json_builder_add_value(b, p);
    json_builder_end_object(b);
    JsonNode *root = json_builder_get_root(b);
    JsonGenerator *g = json_generator_new();
    json_generator_set_root(g, root);
    gchar *text = json_generator_to_data(g, NULL);
    g_object_unref(g);
    json_node_unref(root);
    g_object_unref(b);
    gchar *line = g_strconcat(text, "\n", NULL);
    g_free(text);
    return line;
}

/* Fills `error` from a JSON-RPC error object: the daemon's code and its own message. */
static void set_daemon_error(JsonObject *err, GError **error)
{
    gint code = (gint)json_object_get_int_member_with_default(err, "code", -32603);
    const gchar *message = json_object_get_string_member_with_default(err, "message", "unknown error");
    g_set_error(error, DIFFUSIOND_ERROR, code, "%s", message);
}

JsonNode *rpc_call(const gchar *socket_path, const gchar *method, JsonObject *params,
                   RpcNotifyFunc notify, gpointer user_data, GError **error)
{
    RpcHandlers handlers = { notify, NULL, user_data, NULL };
    return rpc_call_with(socket_path, method, params, &handlers, error);
}

static gboolean cancelled(const RpcHandlers *h, GError **error)
{
    if (h->cancellable == NULL || !g_cancellable_is_cancelled(h->cancellable))
        return FALSE;
    g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_CANCELLED, "cancelled");
    return TRUE;
}

/* With an idle callback: waits for the next bytes in 100 ms slices, calling it between them, until some arrive
 * or the call is cancelled. FALSE (with `error`) when cancelled. */
static gboolean await_input(GSocketConnection *conn, GDataInputStream *in, const RpcHandlers *h, GError **error)
{
    GSocket *socket = g_socket_connection_get_socket(conn);
    while (h->idle != NULL && g_buffered_input_stream_get_available(G_BUFFERED_INPUT_STREAM(in)) == 0) {
        if (cancelled(h, error))
            return FALSE;
        GError *wait = NULL;
        if (g_socket_condition_timed_wait(socket, G_IO_IN | G_IO_HUP | G_IO_ERR, 100000, NULL, &wait))
            break;
        gboolean timed_out = g_error_matches(wait, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
        g_error_free(wait);
        if (!timed_out)
            break;  /* the read reports what went wrong */
        h->idle(h->user_data);
    }
    return !cancelled(h, error);
}

/* How long a cancelled call waits for the daemon to drop the job (a running job stops at its next step). */
#define CANCEL_WAIT_S 10

/* Cancels the job (id 1) with a `cancel` request on its connection and waits for the job's answer (-32800), at most
 * CANCEL_WAIT_S, before the connection closes: only then is the job gone, so the caller may remove the files it
 * writes (its preview). Merely closing would cancel it too, but the daemon would end its current step first and
 * might find the job's folder already removed. */
static void cancel_job(GSocketConnection *conn, GDataInputStream *in)
{
    static const gchar request[] = "{\"jsonrpc\": \"2.0\", \"id\": 2, \"method\": \"cancel\", \"params\": {\"id\": 1}}\n";
    GSocket *socket = g_socket_connection_get_socket(conn);
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    if (!g_output_stream_write_all(out, request, strlen(request), NULL, NULL, NULL))
        return;
    g_socket_set_timeout(socket, CANCEL_WAIT_S);
    JsonParser *parser = json_parser_new();
    gchar *text;
    while ((text = g_data_input_stream_read_line(in, NULL, NULL, NULL)) != NULL) {
        gboolean answer = FALSE;
        if (json_parser_load_from_data(parser, text, -1, NULL) && JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
            JsonNode *id = json_object_get_member(json_node_get_object(json_parser_get_root(parser)), "id");
            answer = id != NULL && JSON_NODE_HOLDS_VALUE(id) && json_node_get_int(id) == 1;
        }
        g_free(text);
        if (answer)
            break;
    }
    g_object_unref(parser);
}

JsonNode *rpc_call_with(const gchar *socket_path, const gchar *method, JsonObject *params,
                        const RpcHandlers *h, GError **error)
{
    GError *local = NULL;
    GSocketClient *client = g_socket_client_new();
    GSocketAddress *address = g_unix_socket_address_new(socket_path);
    GSocketConnection *conn = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(address), NULL, &local);
    g_object_unref(address);
    g_object_unref(client);
    if (conn == NULL) {
        g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_CONNECT,
                    "cannot connect to %s: %s; is diffusiond running (diffusiond serve --socket %s)?",
                    socket_path, local->message, socket_path);
        g_error_free(local);
        return NULL;
    }

    JsonNode *result = NULL;
    gchar *line = request_line(method, params);
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    if (!g_output_stream_write_all(out, line, strlen(line), NULL, NULL, &local)) {
        g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_IO, "sending to diffusiond failed: %s", local->message);
        g_error_free(local);
        g_free(line);
        g_object_unref(conn);
        return NULL;
    }
    g_free(line);

    GDataInputStream *in = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(conn)));
    g_buffered_input_stream_set_buffer_size(G_BUFFERED_INPUT_STREAM(in), 1 << 20);
    JsonParser *parser = json_parser_new();
    for (;;) {
        gsize length = 0;
        if (!await_input(conn, in, h, error)) {
            cancel_job(conn, in);
            break;
        }
        gchar *text = g_data_input_stream_read_line(in, &length, NULL, &local);
        if (text == NULL) {
            if (local != NULL) {
                g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_IO, "reading from diffusiond failed: %s",
                            local->message);
                g_error_free(local);
            } else {
                g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_IO,
                            "diffusiond closed the connection before answering");
            }
            break;
        }
        if (length == 0) { g_free(text); continue; }
        if (!json_parser_load_from_data(parser, text, (gssize)length, &local) ||
            !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
            g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_IO,
                        "diffusiond sent something that is not a JSON-RPC message: %.200s", text);
            g_clear_error(&local);
            g_free(text);
            break;
        }
        g_free(text);
        JsonObject *msg = json_node_get_object(json_parser_get_root(parser));
        if (json_object_has_member(msg, "method")) {
            JsonNode *p = json_object_get_member(msg, "params");
            if (h->notify != NULL && p != NULL && JSON_NODE_HOLDS_OBJECT(p))
                h->notify(json_object_get_string_member_with_default(msg, "method", ""), json_node_get_object(p),
                          h->user_data);
            continue;
        }
        JsonNode *id = json_object_get_member(msg, "id");
        gboolean ours = id != NULL && JSON_NODE_HOLDS_VALUE(id) && json_node_get_int(id) == 1;
        gboolean anonymous = id == NULL || JSON_NODE_HOLDS_NULL(id);
        if (!ours && !anonymous)
            continue;
        JsonNode *err = json_object_get_member(msg, "error");
        if (err != NULL && JSON_NODE_HOLDS_OBJECT(err)) {
            set_daemon_error(json_node_get_object(err), error);
            break;
        }
        if (!ours)
            continue;
        JsonNode *r = json_object_get_member(msg, "result");
        if (r == NULL) {
            g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_IO, "diffusiond answered without a result");
            break;
        }
        result = json_node_copy(r);
        break;
    }
    g_object_unref(parser);
    g_object_unref(in);
    g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
    g_object_unref(conn);
    return result;
}
