/* pbjson.c - protobuf-c message -> proto3 canonical JSON (json-c), by walking descriptors. */
#include "pbjson.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

/* Our messages nest three deep; anything near this is a corrupt or hostile message. */
#define PBJSON_MAX_DEPTH 64

static int message_to_json(const ProtobufCMessage *m, unsigned depth, json_object **ret);

size_t pbjson_json_name(const char *proto_name, char *buf, size_t size)
{
        bool upper_next = false;
        size_t n = 0;

        /* protobuf's ToJsonName(): drop each '_' and upper-case the letter after it. */
        for (const char *p = proto_name; *p; p++) {
                if (*p == '_') {
                        upper_next = true;
                        continue;
                }
                if (n + 1 < size)
                        buf[n] = upper_next && *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
                n++;
                upper_next = false;
        }
        if (size > 0)
                buf[n < size ? n : size - 1] = '\0';
        return n;
}

const char *pbjson_enum_name(const ProtobufCEnumDescriptor *d, int value)
{
        const ProtobufCEnumValue *v = d ? protobuf_c_enum_descriptor_get_value(d, value) : NULL;
        return v ? v->name : NULL;
}

/* ---- scalars ---- */

static json_object *json_u64(uint64_t v)
{
        char buf[32];
        snprintf(buf, sizeof(buf), "%" PRIu64, v);
        return json_object_new_string(buf);
}

static json_object *json_i64(int64_t v)
{
        char buf[32];
        snprintf(buf, sizeof(buf), "%" PRId64, v);
        return json_object_new_string(buf);
}

/* The shortest decimal that reads back as the same value, as protobuf's printers emit. */
static json_object *json_floating(double v, bool is_float)
{
        char buf[40];

        if (isnan(v))
                return json_object_new_string("NaN");
        if (isinf(v))
                return json_object_new_string(v > 0 ? "Infinity" : "-Infinity");
        for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, sizeof(buf), "%.*g", prec, v);
                if (is_float ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v)
                        break;
        }
        return json_object_new_double_s(v, buf);
}

static json_object *json_base64(const ProtobufCBinaryData *b)
{
        static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        _cleanup_free_ char *out = malloc((b->len + 2) / 3 * 4 + 1);
        size_t i, o = 0;

        if (!out)
                return NULL;
        for (i = 0; i + 2 < b->len; i += 3) {
                uint32_t v = (uint32_t)b->data[i] << 16 | (uint32_t)b->data[i + 1] << 8 | b->data[i + 2];
                out[o++] = tab[v >> 18 & 63];
                out[o++] = tab[v >> 12 & 63];
                out[o++] = tab[v >> 6 & 63];
                out[o++] = tab[v & 63];
        }
        if (i < b->len) {
                uint32_t v =
                    (uint32_t)b->data[i] << 16 | (i + 1 < b->len ? (uint32_t)b->data[i + 1] << 8 : 0);
                out[o++] = tab[v >> 18 & 63];
                out[o++] = tab[v >> 12 & 63];
                out[o++] = i + 1 < b->len ? tab[v >> 6 & 63] : '=';
                out[o++] = '=';
        }
        out[o] = '\0';
        return json_object_new_string(out);
}

static json_object *json_enum(const ProtobufCFieldDescriptor *f, int v)
{
        const char *name = pbjson_enum_name(f->descriptor, v);
        return name ? json_object_new_string(name) : json_object_new_int(v);
}

/* One value of field f stored at p (the member itself, or one element of a repeated array). */
static int value_to_json(const ProtobufCFieldDescriptor *f, const void *p, unsigned depth, json_object **ret)
{
        json_object *j = NULL;

        switch (f->type) {
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
                j = json_object_new_int(*(const int32_t *)p);
                break;
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
                j = json_object_new_int64(*(const uint32_t *)p);
                break;
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
                j = json_i64(*(const int64_t *)p);
                break;
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
                j = json_u64(*(const uint64_t *)p);
                break;
        case PROTOBUF_C_TYPE_FLOAT:
                j = json_floating(*(const float *)p, true);
                break;
        case PROTOBUF_C_TYPE_DOUBLE:
                j = json_floating(*(const double *)p, false);
                break;
        case PROTOBUF_C_TYPE_BOOL:
                j = json_object_new_boolean(*(const protobuf_c_boolean *)p);
                break;
        case PROTOBUF_C_TYPE_ENUM:
                j = json_enum(f, *(const int *)p);
                break;
        case PROTOBUF_C_TYPE_STRING:
                j = json_object_new_string(*(char *const *)p ? *(char *const *)p : "");
                break;
        case PROTOBUF_C_TYPE_BYTES:
                j = json_base64((const ProtobufCBinaryData *)p);
                break;
        case PROTOBUF_C_TYPE_MESSAGE:
                if (!*(ProtobufCMessage *const *)p) {
                        *ret = NULL; /* JSON null */
                        return 0;
                }
                return message_to_json(*(ProtobufCMessage *const *)p, depth + 1, ret);
        }
        if (!j)
                return -ENOMEM;
        *ret = j;
        return 0;
}

/* ---- presence ---- */

static size_t element_size(ProtobufCType t)
{
        switch (t) {
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
                return 8;
        case PROTOBUF_C_TYPE_DOUBLE:
                return sizeof(double);
        case PROTOBUF_C_TYPE_BOOL:
                return sizeof(protobuf_c_boolean);
        case PROTOBUF_C_TYPE_ENUM:
                return sizeof(int);
        case PROTOBUF_C_TYPE_STRING:
                return sizeof(char *);
        case PROTOBUF_C_TYPE_BYTES:
                return sizeof(ProtobufCBinaryData);
        case PROTOBUF_C_TYPE_MESSAGE:
                return sizeof(ProtobufCMessage *);
        default:
                return 4;
        }
}

/* proto3 implicit presence: a field at its zero value is not on the wire and not in JSON. */
static bool is_zero(const ProtobufCFieldDescriptor *f, const void *p)
{
        switch (f->type) {
        case PROTOBUF_C_TYPE_FLOAT:
                return *(const float *)p == 0;
        case PROTOBUF_C_TYPE_DOUBLE:
                return *(const double *)p == 0;
        case PROTOBUF_C_TYPE_STRING:
                return !*(char *const *)p || !**(char *const *)p;
        case PROTOBUF_C_TYPE_BYTES:
                return ((const ProtobufCBinaryData *)p)->len == 0;
        case PROTOBUF_C_TYPE_MESSAGE:
                return !*(ProtobufCMessage *const *)p;
        default:
                for (size_t i = 0; i < element_size(f->type); i++)
                        if (((const unsigned char *)p)[i])
                                return false;
                return true;
        }
}

/* Mirrors protobuf-c's own packing rules, so JSON shows exactly what the wire would carry. */
static bool is_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
        const char *base = (const char *)m;
        const void *p = base + f->offset;

        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
                return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
        switch (f->label) {
        case PROTOBUF_C_LABEL_REQUIRED:
                return true;
        case PROTOBUF_C_LABEL_OPTIONAL:
                if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
                        return *(void *const *)p && *(void *const *)p != f->default_value;
                return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
        case PROTOBUF_C_LABEL_REPEATED:
                return *(const size_t *)(base + f->quantifier_offset) > 0;
        default: /* PROTOBUF_C_LABEL_NONE: proto3 implicit presence */
                return !is_zero(f, p);
        }
}

/* ---- messages ---- */

static int repeated_to_json(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, unsigned depth,
                            json_object **ret)
{
        const char *base = (const char *)m;
        size_t n = *(const size_t *)(base + f->quantifier_offset);
        const char *arr = *(const char *const *)(base + f->offset);
        size_t esz = element_size(f->type);
        json_object *a = json_object_new_array_ext((int)n);

        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *v = NULL;
                int r = value_to_json(f, arr + i * esz, depth, &v);
                if (r < 0 || json_object_array_add(a, v) < 0) {
                        json_object_put(v);
                        json_object_put(a);
                        return r < 0 ? r : -ENOMEM;
                }
        }
        *ret = a;
        return 0;
}

static int field_to_json(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, unsigned depth,
                         json_object *obj)
{
        char key[256];
        json_object *v = NULL;
        int r;

        if (f->label == PROTOBUF_C_LABEL_REPEATED)
                r = repeated_to_json(m, f, depth, &v);
        else
                r = value_to_json(f, (const char *)m + f->offset, depth, &v);
        if (r < 0)
                return r;
        pbjson_json_name(f->name, key, sizeof(key));
        if (json_object_object_add(obj, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int message_to_json(const ProtobufCMessage *m, unsigned depth, json_object **ret)
{
        const ProtobufCMessageDescriptor *d = m->descriptor;
        json_object *obj;

        if (depth > PBJSON_MAX_DEPTH)
                return -ELOOP;
        obj = json_object_new_object();
        if (!obj)
                return -ENOMEM;
        /* Descriptors list fields by number: the order protobuf's own printers use. */
        for (unsigned i = 0; i < d->n_fields; i++) {
                int r;
                if (!is_present(m, &d->fields[i]))
                        continue;
                r = field_to_json(m, &d->fields[i], depth, obj);
                if (r < 0) {
                        json_object_put(obj);
                        return r;
                }
        }
        *ret = obj;
        return 0;
}

int pbjson_from_message(const ProtobufCMessage *m, json_object **ret)
{
        return message_to_json(m, 0, ret);
}

/* json-c pretty-prints an empty object as "{\n  }"; every other printer writes "{}". Collapses
 * them in place, outside string literals. */
static void collapse_empty_containers(char *s)
{
        bool in_string = false;
        char *w = s;

        for (const char *r = s; *r; r++) {
                *w++ = *r;
                if (in_string) {
                        if (*r == '\\' && r[1])
                                *w++ = *++r;
                        else if (*r == '"')
                                in_string = false;
                        continue;
                }
                if (*r == '"') {
                        in_string = true;
                } else if (*r == '{' || *r == '[') {
                        const char *e = r + 1 + strspn(r + 1, " \t\n");
                        if (*e == (*r == '{' ? '}' : ']')) {
                                *w++ = *e;
                                r = e;
                        }
                }
        }
        *w = '\0';
}

int pbjson_to_string(const ProtobufCMessage *m, int flags, char **ret)
{
        json_object *obj = NULL;
        char *s;
        int r;

        r = pbjson_from_message(m, &obj);
        if (r < 0)
                return r;
        const char *text = json_object_to_json_string_ext(obj, flags | JSON_C_TO_STRING_NOSLASHESCAPE);
        s = text ? strdup(text) : NULL;
        json_object_put(obj);
        if (!s)
                return -ENOMEM;
        if (flags & JSON_C_TO_STRING_PRETTY)
                collapse_empty_containers(s);
        *ret = s;
        return 0;
}
