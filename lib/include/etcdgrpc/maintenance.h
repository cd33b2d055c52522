// Typed results of etcd's Maintenance service.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "etcdgrpc/export.h"
#include "etcdgrpc/types.h"

namespace etcdgrpc {

// Maintenance.Status of one member.
struct ETCDGRPC_EXPORT EndpointStatus {
  std::string endpoint;
  ResponseHeader header;
  std::string version;
  int64_t db_size = 0;
  int64_t db_size_in_use = 0;
  // Member id of the current leader; the member is leader when this equals
  // header.member_id.
  uint64_t leader = 0;
  uint64_t raft_index = 0;
  uint64_t raft_term = 0;
  uint64_t raft_applied_index = 0;
  bool is_learner = false;
  std::vector<std::string> errors;

  bool is_leader() const { return leader != 0 && leader == header.member_id; }
};

}  // namespace etcdgrpc
