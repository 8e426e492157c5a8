/* WebSocket client connections on the worker's libuv loop: the only module that includes
 * libwebsockets.h. One lws context per worker, on the same loop (LWS_SERVER_OPTION_LIBUV with
 * foreign_loops, Debian's libwebsockets-evlib-uv plugin); no thread per connection.
 *
 * A connection reports exactly once that it ended (on_close), whether the handshake failed or
 * an established session closed; after hn_ws_abandon nothing is reported. Not thread-safe. */
#ifndef HN_WS_H
#define HN_WS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct hn_ws;
struct hn_ws_conn;

struct hn_ws_events {
    void (*on_open)(void *arg);
    /* a whole message (fragments joined), at most max_message_bytes */
    void (*on_message)(void *arg, const char *data, size_t len, int binary);
    /* opened: the session had started. code: the close code (1000 normal, 1006 abnormal...).
     * by_server: the peer initiated it. error: why a handshake failed ("Connection refused",
     * "HTTP 401 on upgrade", "Timeout after 5000 ms"), or NULL. */
    void (*on_close)(void *arg, int opened, int code, int by_server, const char *error);
};

/* Returns NULL (logged) when libwebsockets cannot start on this loop. */
struct hn_ws *hn_ws_new(uv_loop_t *loop);
/* Ends every connection silently and destroys the context; run the loop once more after it. */
void hn_ws_destroy(struct hn_ws **wp);

/* Starts a connection. url: ws:// or wss://; headers: "Name: value\n" lines; subprotocol may
 * be NULL. ping_interval_ms > 0: an idle connection sends a PING that often and is dropped
 * when silent for three intervals (pings from the server are always answered). Returns NULL with a reason in err when the URL is unusable. */
struct hn_ws_conn *hn_ws_connect(struct hn_ws *w, const char *url, const char *headers,
                                 const char *subprotocol, size_t max_message_bytes,
                                 int64_t connect_timeout_ms, int64_t ping_interval_ms,
                                 const struct hn_ws_events *ev, void *arg, char *err,
                                 size_t errlen);
/* Queues a message (copied). */
void hn_ws_send(struct hn_ws_conn *c, const char *data, size_t len, int binary);
/* Closes with a code (1000 = normal); on_close follows. */
void hn_ws_close(struct hn_ws_conn *c, int code);
/* Closes with 1000 and forgets the caller: no callback runs after this. */
void hn_ws_abandon(struct hn_ws_conn *c);
size_t hn_ws_open_connections(const struct hn_ws *w);

#endif
