// Service discovery on the registry: a live, lock-free view of each service's
// endpoints (one Range, then the client's shared watch stream), and balancers
// that pick an endpoint and its channel for each call.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/registry/codec.h"
#include "etcdgrpc/resolver/balancer.h"
#include "etcdgrpc/resolver/service_view.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace etcdgrpc::resolver {

struct ResolverOptions {
  // Root of the registry's keys; unset: the codec's default.
  std::optional<std::string> prefix = std::nullopt;
  // How records are laid out (native, Kratos, Go naming).
  std::shared_ptr<const registry::Codec> codec = registry::NativeCodec();
  // For the endpoints' channels; default: insecure.
  std::shared_ptr<grpc::ChannelCredentials> channel_credentials = nullptr;
  // For the endpoints' channels; default: reconnect backoff 100 ms to 1 s.
  std::optional<grpc::ChannelArguments> channel_arguments = std::nullopt;
  // How often channels' connectivity is polled to skip failing endpoints.
  absl::Duration health_poll_interval = absl::Milliseconds(200);
};

namespace internal {
class ResolverCore;
}  // namespace internal

class Resolver {
 public:
  // `client` must outlive the resolver.
  explicit Resolver(Client& client, ResolverOptions options = {});
  // Stops every view's watch; views, balancers and picks still held keep
  // their last snapshot.
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // The view of `service` (shared when asked again): lists the service at a
  // revision R, then follows it from R + 1. Fails if the first listing fails
  // (e.g. etcd unreachable) or the name is invalid.
  [[nodiscard]] absl::StatusOr<std::shared_ptr<ServiceView>> Watch(std::string_view service);
  // A balancer over the view of `service`.
  [[nodiscard]] absl::StatusOr<std::shared_ptr<Balancer>> Balance(std::string_view service,
                                                                  BalancerOptions options = {});
  // Channels alive in the pool (tests).
  [[nodiscard]] size_t channels() const;

 private:
  std::shared_ptr<internal::ResolverCore> core_;
};

}  // namespace etcdgrpc::resolver
