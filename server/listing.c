/* listing.c - ListRestored filtering and paging. */
#include "listing.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *b64_encode(const unsigned char *in, size_t len)
{
        char *out = malloc(len / 3 * 4 + 5), *o = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i += 3) {
                uint32_t v = (uint32_t)in[i] << 16;
                size_t k = len - i < 3 ? len - i : 3;
                if (k > 1)
                        v |= (uint32_t)in[i + 1] << 8;
                if (k > 2)
                        v |= in[i + 2];
                for (size_t j = 0; j <= k; j++)
                        *o++ = b64url[(v >> (18 - 6 * j)) & 63];
        }
        *o = '\0';
        return out;
}

static int b64_value(char c)
{
        const char *p = c ? strchr(b64url, c) : NULL;
        return p ? (int)(p - b64url) : -1;
}

static char *b64_decode(const char *in, size_t *ret_len)
{
        size_t len = strlen(in), n = 0;
        unsigned char *out = malloc(len * 3 / 4 + 2);
        uint32_t acc = 0;
        int bits = 0;

        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                int v = b64_value(in[i]);
                if (v < 0) {
                        free(out);
                        return NULL;
                }
                acc = (acc << 6) | (uint32_t)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[n++] = (unsigned char)(acc >> bits);
                }
        }
        out[n] = '\0';
        *ret_len = n;
        return (char *)out;
}

char *rpc_token_encode(uint32_t filter_hash, const char *runtime, const char *dir)
{
        _cleanup_free_ char *raw = NULL;
        int n = asprintf(&raw, "1:%08x:%s/%s", filter_hash, runtime, dir);

        return n < 0 ? NULL : b64_encode((unsigned char *)raw, (size_t)n);
}

int rpc_token_decode(const char *token, uint32_t *ret_hash, char **ret_runtime, char **ret_dir)
{
        size_t len = 0;
        _cleanup_free_ char *raw = b64_decode(token, &len);
        char *slash;
        unsigned hash;
        int off = 0;

        /* Runtime and directory names never hold '/' or NUL: both come from readdir. */
        if (!raw || strlen(raw) != len || sscanf(raw, "1:%8x:%n", &hash, &off) != 1 || off != 11)
                return -EINVAL;
        slash = strchr(raw + off, '/');
        if (!slash || slash == raw + off || !slash[1] || strchr(slash + 1, '/'))
                return -EINVAL;
        *slash = '\0';
        *ret_runtime = strdup(raw + off);
        *ret_dir = strdup(slash + 1);
        *ret_hash = hash;
        return *ret_runtime && *ret_dir ? 0 : -ENOMEM;
}

static uint32_t fnv1a(uint32_t h, const void *data, size_t len)
{
        const unsigned char *p = data;
        for (size_t i = 0; i < len; i++)
                h = (h ^ p[i]) * 16777619u;
        return h;
}

static uint32_t filter_hash(const struct rpc_list_query *q)
{
        uint32_t h = 2166136261u;
        h = fnv1a(h, &q->status_mask, sizeof(q->status_mask));
        h = fnv1a(h, &q->outcome, sizeof(q->outcome));
        h = fnv1a(h, q->runtime ? q->runtime : "", strlen(q->runtime ? q->runtime : "") + 1);
        return fnv1a(h, q->prefix ? q->prefix : "", strlen(q->prefix ? q->prefix : "") + 1);
}

int rpc_list_query_init(const Isula__Restore__V1__ListRestoredRequest *req,
                        struct rpc_list_query *ret, char *errbuf, size_t errlen)
{
        struct rpc_list_query q = { 0 };

        for (size_t i = 0; i < req->n_status; i++) {
                if ((unsigned)req->status[i] > RS_STATUS_STOPPED) {
                        snprintf(errbuf, errlen, "status filter %d is not a Status value",
                                 (int)req->status[i]);
                        return -EINVAL;
                }
                q.status_mask |= 1u << req->status[i];
        }
        if ((unsigned)req->outcome > RS_OUTCOME_FAILED) {
                snprintf(errbuf, errlen, "outcome filter %d is not an Outcome value",
                         (int)req->outcome);
                return -EINVAL;
        }
        q.outcome = (rs_outcome)req->outcome;
        q.runtime = req->runtime && *req->runtime ? req->runtime : NULL;
        q.prefix = req->prefix && *req->prefix ? req->prefix : NULL;
        q.page_size = req->page_size ? req->page_size : RPC_LIST_DEFAULT_PAGE;
        if (q.page_size > RPC_LIST_MAX_PAGE)
                q.page_size = RPC_LIST_MAX_PAGE;
        q.filter_hash = filter_hash(&q);
        if (req->page_token && *req->page_token) {
                uint32_t h = 0;
                if (rpc_token_decode(req->page_token, &h, &q.after_runtime, &q.after_dir) < 0) {
                        rpc_list_query_done(&q);
                        snprintf(errbuf, errlen, "page_token is not a token this server issued");
                        return -EINVAL;
                }
                if (h != q.filter_hash) {
                        rpc_list_query_done(&q);
                        snprintf(errbuf, errlen,
                                 "page_token was issued for other filters; send the same filters "
                                 "with every page");
                        return -EINVAL;
                }
        }
        *ret = q;
        return 0;
}

void rpc_list_query_done(struct rpc_list_query *q)
{
        free(q->after_runtime);
        free(q->after_dir);
        q->after_runtime = q->after_dir = NULL;
}

static bool has_prefix(const char *s, const char *prefix)
{
        return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

bool rpc_list_match(const struct rpc_list_query *q, const struct rs_result *r)
{
        if (q->status_mask && !(q->status_mask & (1u << r->status)))
                return false;
        if (q->outcome && r->outcome != q->outcome)
                return false;
        if (q->runtime && (!r->runtime || strcmp(q->runtime, r->runtime) != 0))
                return false;
        if (q->prefix) {
                /* iSulad names may be stored with a leading '/'; match either spelling. */
                const char *name = r->name && r->name[0] == '/' ? r->name + 1 : r->name;
                const char *want = q->prefix[0] == '/' ? q->prefix + 1 : q->prefix;
                if (!has_prefix(r->id, q->prefix) && !has_prefix(name, want) &&
                    !has_prefix(r->dir, q->prefix))
                        return false;
        }
        return true;
}

struct collect {
        const struct rpc_list_query *q;
        struct rpc_page *page;
        bool more;
        int error;
};

static bool collect_one(void *userdata, const struct rs_result *r)
{
        struct collect *c = userdata;

        if (!rpc_list_match(c->q, r))
                return true;
        if (c->page->n == c->q->page_size) {
                c->more = true; /* one match beyond the page: there is a next page */
                return false;
        }
        c->error = rs_result_copy(r, &c->page->items[c->page->n]);
        if (c->error < 0)
                return false;
        c->page->n++;
        return true;
}

int rpc_list_collect(struct rs_engine *e, const struct rpc_list_query *q, struct rpc_page *ret)
{
        struct rpc_page page = { .items = calloc(q->page_size, sizeof(struct rs_result)) };
        struct collect c = { .q = q, .page = &page };

        if (!page.items)
                return -ENOMEM;
        rs_engine_visit(e, q->after_runtime, q->after_dir, collect_one, &c);
        if (c.error == 0 && c.more && page.n > 0) {
                const struct rs_result *last = &page.items[page.n - 1];
                page.next_token = rpc_token_encode(q->filter_hash, last->runtime, last->dir);
                if (!page.next_token)
                        c.error = -ENOMEM;
        }
        if (c.error < 0) {
                rpc_page_done(&page);
                return c.error;
        }
        *ret = page;
        return 0;
}

void rpc_page_done(struct rpc_page *p)
{
        for (size_t i = 0; i < p->n; i++)
                rs_result_done(&p->items[i]);
        free(p->items);
        free(p->next_token);
        memset(p, 0, sizeof(*p));
}
