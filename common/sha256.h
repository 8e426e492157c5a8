/* SHA-256 (FIPS 180-4), for deriving keys from a passphrase (the cluster secret). Small and
 * portable; not a hot path. Pure, thread-safe. */
#ifndef HN_SHA256_H
#define HN_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* out receives the 32-byte digest of the len bytes at data. */
void hn_sha256(const void *data, size_t len, uint8_t out[32]);

#endif
