/* The CURVE keys that secure the links between master and workers, in one of two ways:
 *
 * - a cluster secret (--cluster-secret or HORNET_CLUSTER_SECRET): both sides derive from it the
 *   master's key pair and one key pair for workers; the master accepts only that worker key, so
 *   a peer must hold the secret to join, not only know the master's public key;
 * - key files from `hornet keygen NAME` (NAME.key: the pair, mode 0600; NAME.pub: the public
 *   key): the master has its pair (--master-key) and an allow-list of worker public keys
 *   (--worker-keys: a file of `public-key = "..."` lines, the workers' .pub files joined); each
 *   worker has its own pair (--worker-key) and the master's public key (--master-public-key).
 *   A worker is admitted only if its key is in the list (ZeroMQ's ZAP), so one key can be
 *   revoked without touching the others.
 *
 * A file holds lines `public-key = "Z85"` and `secret-key = "Z85"` (quotes optional), or a
 * bare 40-character key; lines starting with '#' are comments. Errors name the file, the line and what was expected. */
#ifndef HN_KEYS_H
#define HN_KEYS_H

#include <stddef.h>

#include "common/options.h"
#include "proto/rpc.h"

/* The keys for this process's role from the options (master: its pair and the allow-list;
 * worker: its pair and the master's public key). Returns 0 with *have = 0 (plain links) or 1,
 * or HN_EXIT_USAGE with a one-line message in err (a flag missing, a file unreadable or
 * malformed, both ways given). */
int hn_keys_from_options(const struct hn_options *o, int master_side, struct hn_rpc_keys *k,
                         int *have, char *err, size_t errlen);

/* `hornet keygen NAME`: writes NAME.key (0600) and NAME.pub, refusing to overwrite either.
 * Returns 0 and the public key, or HN_EXIT_USAGE / HN_EXIT_RUNTIME with a message in err. */
int hn_keys_generate(const char *name, char public_z85[41], char *err, size_t errlen);

/* Parses a key file's text: the public and secret keys it holds ("" if absent; for an
 * allow-list, every public key through add). Returns 0, or HN_EINVAL naming line and field in
 * err ("LINE: ..."). Pure; exposed for tests. */
typedef void hn_key_add_fn(void *ctx, const char *public_z85);
int hn_keys_parse(const char *text, char public_z85[41], char secret_z85[41], hn_key_add_fn *add,
                  void *ctx, char *err, size_t errlen);

#endif
