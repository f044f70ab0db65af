/*
 * listing.h - ListRestored: filters and opaque page tokens over the engine's view.
 *
 * Results are always in the view's order (runtime, then directory name). A page token names
 * the last (runtime, dir) returned plus a hash of the filters that produced it, base64url
 * encoded: the next page resumes strictly after that key, so pages stay stable while a
 * restore publishes results or a new generation replaces them, and a token replayed with other
 * filters is refused instead of silently skipping containers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "isula/restore/v1/restore.pb-c.h"

#define RPC_LIST_DEFAULT_PAGE 100
#define RPC_LIST_MAX_PAGE 1000

struct rpc_list_query {
        uint32_t status_mask;   /* bit per rs_status; 0 = any */
        rs_outcome outcome;     /* 0 = any */
        const char *runtime;    /* NULL/"" = any (borrowed) */
        const char *prefix;     /* id or name prefix (borrowed) */
        size_t page_size;
        uint32_t filter_hash;
        char *after_runtime, *after_dir; /* decoded from the token (owned) */
};

struct rpc_page {
        struct rs_result *items;
        size_t n;
        char *next_token;       /* NULL on the last page */
};

/* -EINVAL with a sentence in errbuf for a bad enum value or token. */
int rpc_list_query_init(const Isula__Restore__V1__ListRestoredRequest *req,
                        struct rpc_list_query *ret, char *errbuf, size_t errlen);
void rpc_list_query_done(struct rpc_list_query *q);

int rpc_list_collect(struct rs_engine *e, const struct rpc_list_query *q, struct rpc_page *ret);
void rpc_page_done(struct rpc_page *p);

/* Exposed for tests. */
char *rpc_token_encode(uint32_t filter_hash, const char *runtime, const char *dir);
int rpc_token_decode(const char *token, uint32_t *ret_hash, char **ret_runtime, char **ret_dir);
bool rpc_list_match(const struct rpc_list_query *q, const struct rs_result *r);
