// Public API: clusters (ClusterSpec, TF_CONFIG), a task's gRPC server, and
// sessions whose graph runs on a cluster (MasterSession in this process, or
// a remote master at grpc://host:port).
#pragma once
#include "braid/distributed/cluster_spec.h"
#include "braid/distributed/master_session.h"
#include "braid/distributed/rpc/grpc_server.h"
#include "braid/distributed/rpc/grpc_session.h"
