#include "cli/cluster_endpoints.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "cli/exit_status.h"

namespace etcdgrpc::cli {

absl::StatusOr<std::vector<std::string>> EndpointsFromCluster(const CommandEnv& env, bool cluster) {
  if (!cluster) return env.flags().endpoints;
  absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
  if (!client.ok()) return client.status();
  absl::StatusOr<MemberListResult> members = (*client)->cluster().MemberList();
  if (!members.ok()) {
    return CliError(kExitError,
                    absl::StrCat("failed to fetch endpoints from etcd cluster member list: ",
                                 ErrorText(members.status())));
  }
  std::vector<std::string> endpoints;
  for (const Member& member : members->members) {
    endpoints.insert(endpoints.end(), member.client_urls.begin(), member.client_urls.end());
  }
  return endpoints;
}

absl::StatusOr<std::unique_ptr<Client>> ConnectToEndpoints(
    const CommandEnv& env, const std::vector<std::string>& endpoints) {
  GlobalFlags flags = env.flags();
  flags.endpoints = endpoints;
  absl::StatusOr<ClientOptions> options = MakeClientOptions(flags);
  if (!options.ok()) return options.status();
  options->dial_timeout = absl::ZeroDuration();
  return Client::Connect(*std::move(options));
}

}  // namespace etcdgrpc::cli
