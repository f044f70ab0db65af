/*
 * bb.c - grpc_byte_buffer <-> protobuf-c messages.
 */
#include "bb.h"

#include <errno.h>

#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>

int bb_unpack(const ProtobufCMessageDescriptor *desc, grpc_byte_buffer *bb, ProtobufCMessage **ret_msg)
{
        grpc_byte_buffer_reader r;
        ProtobufCMessage *m;
        grpc_slice s;

        if (!bb)
                return -ENODATA;
        /* Compressed messages were already inflated by the call's decompression filter (1.51
         * no longer inflates in the reader), so this only flattens the slices. */
        if (!grpc_byte_buffer_reader_init(&r, bb))
                return -EBADMSG;
        s = grpc_byte_buffer_reader_readall(&r);
        grpc_byte_buffer_reader_destroy(&r);
        m = protobuf_c_message_unpack(desc, NULL, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
        grpc_slice_unref(s);
        if (!m)
                return -EBADMSG;
        *ret_msg = m;
        return 0;
}

int bb_pack(const ProtobufCMessage *msg, grpc_byte_buffer **ret_bb)
{
        size_t n = protobuf_c_message_get_packed_size(msg);
        /* Pack in place: the slice becomes the buffer's only chunk, no second copy. */
        grpc_slice s = grpc_slice_malloc(n);
        grpc_byte_buffer *bb;

        protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(s));
        bb = grpc_raw_byte_buffer_create(&s, 1); /* takes its own reference */
        grpc_slice_unref(s);
        if (!bb)
                return -ENOMEM;
        *ret_bb = bb;
        return 0;
}
