/* libFuzzer target for the native engine's response reader (h1resp.c). The input is cut in
 * two at a position taken from its first byte, so split reads are fuzzed too; then the peer
 * "closes". scripts/fuzz.sh seeds it with real responses, written here when HORNET_FUZZ_SEEDS
 * names a directory. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/h1resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char *const k_seeds[] = {
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"status\":\"ok\"}",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n",
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.1 302 Found\r\nLocation: /home\r\nSet-Cookie: sid=1; Path=/\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.1 204 No Content\r\n\r\n",
    "HTTP/1.0 200 OK\r\n\r\nuntil the close",
    "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 5\r\n\r\nerror",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = getenv("HORNET_FUZZ_SEEDS");
    for (size_t i = 0; dir && i < sizeof k_seeds / sizeof k_seeds[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/response_%zu", dir, i);
        FILE *f = fopen(path, "wb");
        if (f) {
            fputc((int)(i * 37), f); /* the split byte */
            fputs(k_seeds[i], f);
            fclose(f);
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct hn_buf hdrs, body;
    hn_buf_init(&hdrs, HN_H1_HEADERS_MAX + 4096);
    hn_buf_init(&body, 4096);
    struct hn_h1resp r;
    hn_h1resp_init(&r, data[0] & 1, 1, 1024, &hdrs, &body);
    const char *p = (const char *)data + 1;
    size_t n = size - 1, cut = n ? data[0] % (n + 1) : 0;
    hn_h1resp_feed(&r, p, cut);
    if (r.state == HN_H1_READING)
        hn_h1resp_feed(&r, p + cut, n - cut);
    hn_h1resp_eof(&r);
    if (r.state == HN_H1_DONE) {
        (void)hn_h1resp_header(&r, "Location");
        if (r.keep_body && body.len > 1024)
            abort(); /* the cap broke */
    }
    if (hdrs.len > HN_H1_HEADERS_MAX + 4096)
        abort();
    hn_buf_fini(&hdrs);
    hn_buf_fini(&body);
    return 0;
}
