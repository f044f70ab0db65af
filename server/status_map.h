/*
 * status_map.h - the one place where pipeline errors become gRPC status codes.
 *
 *   -ENOENT    NOT_FOUND            unknown id, prefix or name
 *   -ENOTUNIQ  INVALID_ARGUMENT     ambiguous id prefix (Docker answers 400 for this)
 *   -EINVAL    INVALID_ARGUMENT     a request field the server cannot use
 *   -EBUSY     ABORTED              conflicts with a restore in progress: retry later
 *   -ENOMEM    RESOURCE_EXHAUSTED
 *   -EACCES    PERMISSION_DENIED
 *   others     INTERNAL
 */
#pragma once

#include <grpc/status.h>

grpc_status_code rpc_status_from_errno(int neg_errno);
