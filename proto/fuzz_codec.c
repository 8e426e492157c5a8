/* libFuzzer target for the message decoder: build with -DHORNET_FUZZ=ON and clang, then
 *   ./build-fuzz/proto/fuzz_codec -max_total_time=60 */
#include <stddef.h>
#include <stdint.h>

#include "proto/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hn_msg m;
    char err[256];
    if (hn_msg_decode(data, size, &m, err, sizeof err) == 0)
        hn_msg_fini(&m);
    return 0;
}
