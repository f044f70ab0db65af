/* status_map.c - negative errno to gRPC status code. */
#include "status_map.h"

#include <errno.h>

grpc_status_code rpc_status_from_errno(int neg_errno)
{
        switch (-neg_errno) {
        case 0:
                return GRPC_STATUS_OK;
        case ENOENT:
                return GRPC_STATUS_NOT_FOUND;
        case ENOTUNIQ:
        case EINVAL:
                return GRPC_STATUS_INVALID_ARGUMENT;
        case EBUSY:
                return GRPC_STATUS_ABORTED;
        case ENOMEM:
        case ENOBUFS:
                return GRPC_STATUS_RESOURCE_EXHAUSTED;
        case EACCES:
        case EPERM:
                return GRPC_STATUS_PERMISSION_DENIED;
        default:
                return GRPC_STATUS_INTERNAL;
        }
}
