/*
 * pbjson.h - any protobuf-c message as proto3 canonical JSON, driven by its descriptor.
 *
 * The mapping is protobuf's (https://protobuf.dev/programming-guides/proto3/#json), so that
 * `restorectl -o json` prints what buf curl, grpcurl or a Go/Python client would print:
 *   - keys are the lowerCamelCase JSON names computed from the proto field names
 *     ("p_start_time" -> "pStartTime"); protobuf-c descriptors carry only the proto name;
 *   - fields at their default value (0, false, "", empty repeated, enum 0, unset message) are
 *     omitted; fields with explicit presence (oneof members, proto2/proto3 `optional`) are
 *     printed whenever present;
 *   - enums print by name (a number when the value has no name), 64-bit integers as strings,
 *     bytes as base64, NaN/Infinity as strings, repeated fields as arrays, messages as objects.
 * Not handled: map fields print as arrays of {key, value} entries and well-known types
 * (Timestamp, Duration, wrappers, Any) as plain messages; none occur in restored's API.
 */
#pragma once

#include <json-c/json.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* Builds the JSON object of `m`; returns 0 or -ENOMEM. The caller owns *ret (json_object_put). */
int pbjson_from_message(const ProtobufCMessage *m, json_object **ret);

/* Serialises `m` (flags: JSON_C_TO_STRING_*; '/' is never escaped). The caller frees *ret. */
int pbjson_to_string(const ProtobufCMessage *m, int flags, char **ret);

/* The proto3 JSON name of a proto field name: "duration_us" -> "durationUs". Returns the length
 * the name needs (excluding the NUL), like snprintf; the output is truncated to fit `size`. */
size_t pbjson_json_name(const char *proto_name, char *buf, size_t size);

/* The name of an enum value ("STATUS_RUNNING"), or NULL if the value has none. */
const char *pbjson_enum_name(const ProtobufCEnumDescriptor *d, int value);
