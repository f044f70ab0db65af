/*
 * bb.h - grpc_byte_buffer <-> protobuf-c messages (recipe §3).
 *
 * Both directions copy at most once: unpack flattens the (possibly chunked) buffer into one
 * slice and decodes from it; pack serialises straight into a freshly allocated slice that the
 * byte buffer then references. Requests a client compressed arrive already inflated.
 */
#pragma once

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>

/*
 * Decodes `bb` as a message of type `desc`. Returns 0 and a message the caller frees with
 * protobuf_c_message_free_unpacked(), -ENODATA if bb is NULL (the client sent no message),
 * or -EBADMSG if the bytes are not a valid `desc`.
 */
int bb_unpack(const ProtobufCMessageDescriptor *desc, grpc_byte_buffer *bb, ProtobufCMessage **ret_msg);

/* Serialises `msg`. Returns 0 and a byte buffer the caller destroys with grpc_byte_buffer_destroy(). */
int bb_pack(const ProtobufCMessage *msg, grpc_byte_buffer **ret_bb);
