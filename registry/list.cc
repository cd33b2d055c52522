#include "etcdgrpc/registry/list.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "registry/internal/json_text.h"
#include "registry/internal/text.h"

namespace etcdgrpc::registry {

absl::StatusOr<ListResult> ListInstances(Client& client, const Codec& codec,
                                         std::string_view prefix, std::string_view service) {
  std::string range_prefix;
  if (!service.empty()) {
    range_prefix = codec.ServicePrefix(prefix, service);
  } else if (prefix.empty()) {
    return absl::InvalidArgumentError(
        "listing every service needs a prefix (the keys of all services are under it)");
  } else {
    range_prefix = JoinKey(prefix, "");
  }
  absl::StatusOr<GetResult> got = client.Range(KeyRange::Prefix(range_prefix));
  if (!got.ok()) return got.status();
  ListResult result;
  result.revision = got->header.revision;
  for (KeyValue& kv : got->kvs) {
    std::string_view listed_service = service;
    if (listed_service.empty()) {
      // {prefix}/{service}/{rest}: the service is the segment after the root.
      const std::string_view rest = std::string_view(kv.key).substr(range_prefix.size());
      const size_t slash = rest.find('/');
      if (slash == std::string_view::npos || slash == 0) {
        result.skipped.push_back(internal::BadValue(
            kv.key,
            absl::StrCat("is not under ", internal::Printable(range_prefix), "{service}/")));
        continue;
      }
      listed_service = rest.substr(0, slash);
    }
    absl::StatusOr<ServiceInstance> instance = codec.Decode(listed_service, kv.key, kv.value);
    if (!instance.ok()) {
      result.skipped.push_back(instance.status());
      continue;
    }
    result.instances.push_back(ListedInstance{.key = std::move(kv.key),
                                              .lease = kv.lease,
                                              .mod_revision = kv.mod_revision,
                                              .instance = *std::move(instance)});
  }
  return result;
}

}  // namespace etcdgrpc::registry
