/*
 * reflection.c - the descriptor index and the ServerReflectionInfo handler.
 */
#include "errbuf.h"
#include "reflection.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "google/protobuf/descriptor.pb-c.h"
#include "grpc/reflection/v1/reflection.pb-c.h"

typedef Grpc__Reflection__V1__ServerReflectionRequest refl_req;
typedef Grpc__Reflection__V1__ServerReflectionResponse refl_resp;
typedef Google__Protobuf__FileDescriptorProto file_proto;

struct refl_symbol {
        char *name;
        size_t file;
};

struct reflection {
        struct refl_file *files;
        size_t n_files;
        struct refl_symbol *syms; /* sorted by name after reflection_new() */
        size_t n_syms, cap_syms;
        struct gs_server *srv;
};


/* ---- splitting the set on the wire ---- */

static int read_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *ret)
{
        uint64_t v = 0;

        for (unsigned shift = 0; shift < 64 && *pos < len; shift += 7) {
                uint8_t b = p[(*pos)++];

                v |= (uint64_t)(b & 0x7f) << shift;
                if (!(b & 0x80)) {
                        *ret = v;
                        return 0;
                }
        }
        return -EBADMSG;
}

/* A FileDescriptorSet is only `repeated FileDescriptorProto file = 1`: key 0x0a, length, bytes. */
static int split_set(struct reflection *r, const uint8_t *set, size_t len)
{
        size_t pos = 0;

        while (pos < len) {
                uint64_t key, n;
                struct refl_file *v;

                if (read_varint(set, len, &pos, &key) < 0 || key != 0x0a ||
                    read_varint(set, len, &pos, &n) < 0 || n > len - pos)
                        return -EBADMSG;
                v = realloc(r->files, (r->n_files + 1) * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                r->files = v;
                r->files[r->n_files++] = (struct refl_file){.data = set + pos, .len = (size_t)n};
                pos += (size_t)n;
        }
        return 0;
}

/* ---- symbols ---- */

/* Adds "scope.name" (or "name"); returns the stored string, which stays put. */
static const char *add_sym(struct reflection *r, const char *scope, const char *name, size_t file)
{
        char *full;

        if (r->n_syms == r->cap_syms) {
                size_t cap = r->cap_syms ? r->cap_syms * 2 : 256;
                struct refl_symbol *v = realloc(r->syms, cap * sizeof(*v));

                if (!v)
                        return NULL;
                r->syms = v;
                r->cap_syms = cap;
        }
        if (scope[0] ? asprintf(&full, "%s.%s", scope, name) < 0 : !(full = strdup(name)))
                return NULL;
        r->syms[r->n_syms++] = (struct refl_symbol){.name = full, .file = file};
        return full;
}

/* Enum values are scoped like siblings of their enum (C++ scoping rules of protobuf). */
static int add_enum(struct reflection *r, const char *scope, const Google__Protobuf__EnumDescriptorProto *e,
                    size_t file)
{
        if (!add_sym(r, scope, e->name, file))
                return -ENOMEM;
        for (size_t i = 0; i < e->n_value; i++)
                if (!add_sym(r, scope, e->value[i]->name, file))
                        return -ENOMEM;
        return 0;
}

static int add_message(struct reflection *r, const char *scope, const Google__Protobuf__DescriptorProto *m,
                       size_t file)
{
        const char *full = add_sym(r, scope, m->name, file);

        if (!full)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_field; i++)
                if (!add_sym(r, full, m->field[i]->name, file))
                        return -ENOMEM;
        for (size_t i = 0; i < m->n_oneof_decl; i++)
                if (!add_sym(r, full, m->oneof_decl[i]->name, file))
                        return -ENOMEM;
        for (size_t i = 0; i < m->n_extension; i++)
                if (!add_sym(r, full, m->extension[i]->name, file))
                        return -ENOMEM;
        for (size_t i = 0; i < m->n_enum_type; i++)
                if (add_enum(r, full, m->enum_type[i], file) < 0)
                        return -ENOMEM;
        for (size_t i = 0; i < m->n_nested_type; i++)
                if (add_message(r, full, m->nested_type[i], file) < 0)
                        return -ENOMEM;
        return 0;
}

static int add_services(struct reflection *r, const file_proto *fp, size_t file)
{
        const char *pkg = fp->package ? fp->package : "";

        for (size_t i = 0; i < fp->n_service; i++) {
                const char *svc = add_sym(r, pkg, fp->service[i]->name, file);

                if (!svc)
                        return -ENOMEM;
                for (size_t j = 0; j < fp->service[i]->n_method; j++)
                        if (!add_sym(r, svc, fp->service[i]->method[j]->name, file))
                                return -ENOMEM;
        }
        return 0;
}

static int index_symbols(struct reflection *r, const file_proto *fp, size_t file)
{
        const char *pkg = fp->package ? fp->package : "";

        for (size_t i = 0; i < fp->n_message_type; i++)
                if (add_message(r, pkg, fp->message_type[i], file) < 0)
                        return -ENOMEM;
        for (size_t i = 0; i < fp->n_enum_type; i++)
                if (add_enum(r, pkg, fp->enum_type[i], file) < 0)
                        return -ENOMEM;
        for (size_t i = 0; i < fp->n_extension; i++)
                if (!add_sym(r, pkg, fp->extension[i]->name, file))
                        return -ENOMEM;
        return add_services(r, fp, file);
}

static int cmp_sym(const void *a, const void *b)
{
        return strcmp(((const struct refl_symbol *)a)->name, ((const struct refl_symbol *)b)->name);
}

/* ---- building the index ---- */

static int resolve_deps(struct reflection *r, struct refl_file *f, const file_proto *fp)
{
        f->deps = calloc(fp->n_dependency ? fp->n_dependency : 1, sizeof(*f->deps));
        if (!f->deps)
                return -ENOMEM;
        for (size_t i = 0; i < fp->n_dependency; i++) {
                const struct refl_file *d = reflection_find_file(r, fp->dependency[i]);

                /* A file missing from the set just is not served; clients ask for what they lack. */
                if (d)
                        f->deps[f->n_deps++] = (size_t)(d - r->files);
        }
        return 0;
}

static void free_protos(file_proto **fps, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (fps[i])
                        google__protobuf__file_descriptor_proto__free_unpacked(fps[i], NULL);
        free(fps);
}

static int build_index(struct reflection *r, char *errbuf, size_t errlen)
{
        file_proto **fps = calloc(r->n_files ? r->n_files : 1, sizeof(*fps));
        int ret = 0;

        if (!fps)
                return errbuf_fail(errbuf, errlen, -ENOMEM, "out of memory");
        for (size_t i = 0; i < r->n_files && ret == 0; i++) {
                fps[i] =
                    google__protobuf__file_descriptor_proto__unpack(NULL, r->files[i].len, r->files[i].data);
                if (!fps[i] || !fps[i]->name)
                        ret = errbuf_fail(errbuf, errlen, -EBADMSG, "descriptor set: file %zu does not decode", i);
                else if (!(r->files[i].name = strdup(fps[i]->name)) || index_symbols(r, fps[i], i) < 0)
                        ret = errbuf_fail(errbuf, errlen, -ENOMEM, "out of memory");
        }
        /* Dependencies by name, once every file has its name. */
        for (size_t i = 0; i < r->n_files && ret == 0; i++)
                if (resolve_deps(r, &r->files[i], fps[i]) < 0)
                        ret = errbuf_fail(errbuf, errlen, -ENOMEM, "out of memory");
        free_protos(fps, r->n_files);
        if (ret == 0 && r->n_syms) /* qsort(NULL, 0) is undefined behaviour */
                qsort(r->syms, r->n_syms, sizeof(*r->syms), cmp_sym);
        return ret;
}

int reflection_new(const uint8_t *set, size_t len, struct reflection **ret, char *errbuf, size_t errlen)
{
        struct reflection *r = calloc(1, sizeof(*r));
        int e;

        if (!r)
                return errbuf_fail(errbuf, errlen, -ENOMEM, "out of memory");
        e = split_set(r, set, len);
        if (e < 0)
                e = errbuf_fail(errbuf, errlen, e, "descriptor set is malformed (%zu bytes)", len);
        else
                e = build_index(r, errbuf, errlen);
        if (e < 0) {
                reflection_free(r);
                return e;
        }
        *ret = r;
        return 0;
}

void reflection_free(struct reflection *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n_files; i++) {
                free(r->files[i].name);
                free(r->files[i].deps);
        }
        free(r->files);
        for (size_t i = 0; i < r->n_syms; i++)
                free(r->syms[i].name);
        free(r->syms);
        free(r);
}

/* ---- queries ---- */

size_t reflection_n_files(const struct reflection *r)
{
        return r->n_files;
}

const struct refl_file *reflection_file(const struct reflection *r, size_t i)
{
        return i < r->n_files ? &r->files[i] : NULL;
}

const struct refl_file *reflection_find_file(const struct reflection *r, const char *name)
{
        for (size_t i = 0; name && i < r->n_files; i++)
                if (r->files[i].name && strcmp(r->files[i].name, name) == 0)
                        return &r->files[i];
        return NULL;
}

const struct refl_file *reflection_find_symbol(const struct reflection *r, const char *symbol)
{
        struct refl_symbol key, *hit;

        if (!symbol || !r->n_syms) /* bsearch over NULL, even of 0 items, is undefined */
                return NULL;
        if (symbol[0] == '.')
                symbol++;
        key.name = (char *)symbol;
        hit = bsearch(&key, r->syms, r->n_syms, sizeof(*r->syms), cmp_sym);
        return hit ? &r->files[hit->file] : NULL;
}

static size_t visit(const struct reflection *r, size_t i, bool *seen, const struct refl_file **out,
                    size_t max, size_t n)
{
        if (seen[i])
                return n;
        seen[i] = true;
        if (n < max)
                out[n] = &r->files[i];
        n++;
        for (size_t d = 0; d < r->files[i].n_deps; d++)
                n = visit(r, r->files[i].deps[d], seen, out, max, n);
        return n;
}

size_t reflection_closure(const struct reflection *r, const struct refl_file *f,
                          const struct refl_file **out, size_t max)
{
        _cleanup_free_ bool *seen = calloc(r->n_files ? r->n_files : 1, sizeof(*seen));

        if (!seen || !f)
                return 0;
        return visit(r, (size_t)(f - r->files), seen, out, max, 0);
}

/* ---- the handler ---- */

/* error_message is `what` followed by `arg` (a client-supplied name), if any. */
static int send_error(struct gs_call *call, refl_resp *resp, grpc_status_code code, const char *what,
                      const char *arg)
{
        Grpc__Reflection__V1__ErrorResponse err = GRPC__REFLECTION__V1__ERROR_RESPONSE__INIT;
        char msg[512];

        snprintf(msg, sizeof(msg), "%s%s", what, arg ? arg : "");
        err.error_code = (int32_t)code;
        err.error_message = msg;
        resp->message_response_case =
            GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE;
        resp->error_response = &err;
        return gs_stream_send(call, &resp->base);
}

/* The file and its transitive dependencies, each once per response. */
static int send_files(struct gs_call *call, refl_resp *resp, const struct reflection *r,
                      const struct refl_file *f)
{
        Grpc__Reflection__V1__FileDescriptorResponse fdr =
            GRPC__REFLECTION__V1__FILE_DESCRIPTOR_RESPONSE__INIT;
        _cleanup_free_ const struct refl_file **list = calloc(r->n_files, sizeof(*list));
        _cleanup_free_ ProtobufCBinaryData *bins = calloc(r->n_files, sizeof(*bins));
        size_t n;

        if (!list || !bins)
                return -ENOMEM;
        n = reflection_closure(r, f, list, r->n_files);
        for (size_t i = 0; i < n; i++) {
                bins[i].data = (uint8_t *)list[i]->data; /* only read by pack */
                bins[i].len = list[i]->len;
        }
        fdr.n_file_descriptor_proto = n;
        fdr.file_descriptor_proto = bins;
        resp->message_response_case =
            GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE;
        resp->file_descriptor_response = &fdr;
        return gs_stream_send(call, &resp->base);
}

/* The argument is ignored: buf curl sends "" rather than "*" (recipe §5). */
static int send_services(struct gs_call *call, refl_resp *resp, const struct reflection *r)
{
        Grpc__Reflection__V1__ListServiceResponse lsr = GRPC__REFLECTION__V1__LIST_SERVICE_RESPONSE__INIT;
        size_t n = gs_server_services(r->srv, NULL, 0);
        _cleanup_free_ const char **names = calloc(n ? n : 1, sizeof(*names));
        _cleanup_free_ Grpc__Reflection__V1__ServiceResponse *svcs = calloc(n ? n : 1, sizeof(*svcs));
        _cleanup_free_ Grpc__Reflection__V1__ServiceResponse **ptrs = calloc(n ? n : 1, sizeof(*ptrs));

        if (!names || !svcs || !ptrs)
                return -ENOMEM;
        gs_server_services(r->srv, names, n);
        for (size_t i = 0; i < n; i++) {
                grpc__reflection__v1__service_response__init(&svcs[i]);
                svcs[i].name = (char *)names[i];
                ptrs[i] = &svcs[i];
        }
        lsr.n_service = n;
        lsr.service = ptrs;
        resp->message_response_case =
            GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE;
        resp->list_services_response = &lsr;
        return gs_stream_send(call, &resp->base);
}

static int answer(struct gs_call *call, const struct reflection *r, const refl_req *req, refl_resp *resp)
{
        const struct refl_file *f;

        switch (req->message_request_case) {
        case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME:
                f = reflection_find_file(r, req->file_by_filename);
                return f ? send_files(call, resp, r, f)
                         : send_error(call, resp, GRPC_STATUS_NOT_FOUND,
                                      "file not found: ", req->file_by_filename);
        case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL:
                f = reflection_find_symbol(r, req->file_containing_symbol);
                return f ? send_files(call, resp, r, f)
                         : send_error(call, resp, GRPC_STATUS_NOT_FOUND,
                                      "symbol not found: ", req->file_containing_symbol);
        case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES:
                return send_services(call, resp, r);
        case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION:
        case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE:
                return send_error(call, resp, GRPC_STATUS_UNIMPLEMENTED, "extensions are not supported",
                                  NULL);
        default:
                return send_error(call, resp, GRPC_STATUS_INVALID_ARGUMENT, "empty reflection request",
                                  NULL);
        }
}

/* Bidi and synchronous: one response per request; errors go in error_response, the stream stays OK. */
static void on_info(struct gs_call *call, const ProtobufCMessage *msg, void *userdata)
{
        const refl_req *req = (const refl_req *)msg;
        refl_resp resp = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__INIT;
        int r;

        if (!req) {
                gs_stream_end(call, GRPC_STATUS_OK, NULL);
                return;
        }
        resp.valid_host = req->host;
        resp.original_request = (refl_req *)req;
        r = answer(call, userdata, req, &resp);
        /* -EPIPE: the call is gone; we are called once more with NULL and end it then. */
        if (r == -ENOBUFS || r == -ENOMEM)
                gs_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED,
                             "reflection client is not reading its answers");
}

int reflection_register(struct reflection *r, struct gs_server *s)
{
        static const char *const paths[] = {
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            /* v1alpha is wire-identical to v1; older grpcurl versions only speak it. */
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        };

        r->srv = s;
        for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
                struct gs_method m = {.path = paths[i],
                                      .input = &grpc__reflection__v1__server_reflection_request__descriptor,
                                      .kind = GS_BIDI_STREAMING,
                                      .fn = on_info,
                                      .userdata = r};
                int e = gs_server_add_method(s, &m);

                if (e < 0)
                        return e;
        }
        return 0;
}
