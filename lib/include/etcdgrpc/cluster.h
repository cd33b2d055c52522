// The cluster's members as Cluster.MemberList reports them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "etcdgrpc/export.h"
#include "etcdgrpc/types.h"

namespace etcdgrpc {

struct ETCDGRPC_EXPORT Member {
  uint64_t id = 0;
  // Empty for a member that was added but has not started yet.
  std::string name = {};
  std::vector<std::string> peer_urls = {};
  std::vector<std::string> client_urls = {};
  bool is_learner = false;
};

struct ETCDGRPC_EXPORT MemberListResult {
  ResponseHeader header;
  std::vector<Member> members;
};

}  // namespace etcdgrpc
