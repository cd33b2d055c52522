// How service instances are laid out in etcd: the key of an instance, the
// prefix of a service's keys and the value's format. Three codecs come with
// the library: native, Kratos-compatible and etcd's Go gRPC naming records.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "etcdgrpc/export.h"
#include "etcdgrpc/registry/service_instance.h"

namespace etcdgrpc::registry {

// Implementations must be thread-safe (they are used from several threads at
// once) and must not throw.
class ETCDGRPC_EXPORT Codec {
 public:
  virtual ~Codec() = default;

  // "native", "kratos" or "naming" for the built-in codecs.
  [[nodiscard]] virtual std::string_view name() const = 0;
  // The root prefix used when RegistrarOptions::prefix is not set.
  [[nodiscard]] virtual std::string_view default_prefix() const = 0;
  // Whether resolvers keep the last endpoints when most of them vanish at
  // once, unless ResolverOptions::mass_disappearance says otherwise.
  [[nodiscard]] virtual bool protects_against_mass_disappearance() const { return false; }

  // Rules of this layout beyond ValidateInstance() (which always applies).
  [[nodiscard]] virtual absl::Status Validate(const ServiceInstance& /*instance*/) const {
    return absl::OkStatus();
  }
  // The key of `instance` under the root `prefix`.
  [[nodiscard]] virtual std::string Key(std::string_view prefix,
                                        const ServiceInstance& instance) const = 0;
  // The prefix shared by every key of `service` under `prefix`; it ends with
  // '/', so that service "a" does not match the keys of service "ab".
  [[nodiscard]] virtual std::string ServicePrefix(std::string_view prefix,
                                                  std::string_view service) const;
  // The value stored for `instance`.
  [[nodiscard]] virtual absl::StatusOr<std::string> Encode(
      const ServiceInstance& instance) const = 0;
  // Reads a value found at `key`. `service` is the service the key was listed
  // under (empty: take it from the key or value). A value that is not valid
  // JSON or lacks required fields is InvalidArgument naming the key.
  [[nodiscard]] virtual absl::StatusOr<ServiceInstance> Decode(std::string_view service,
                                                               std::string_view key,
                                                               std::string_view value) const = 0;
};

// `{prefix}/{service}/{id}` → {"service","id","address","metadata":{…},
// "registered_at":"<RFC 3339 UTC>"}. Default prefix "/services".
[[nodiscard]] ETCDGRPC_EXPORT std::shared_ptr<const Codec> NativeCodec();

// go-kratos' etcd registry: `{prefix}/{service}/{id}` (default prefix
// "/microservices", Kratos' namespace) → {"id","name","version","metadata",
// "endpoints":["grpc://host:port"]}, byte for byte as Go's json.Marshal writes
// Kratos' registry.ServiceInstance. metadata["version"] is the "version"
// field. Decoding prefers the grpc:// endpoint, else the first one.
[[nodiscard]] ETCDGRPC_EXPORT std::shared_ptr<const Codec> KratosCodec();

// etcd's Go gRPC naming records (clientv3/naming GRPCResolver in etcd 3.4,
// client/v3/naming/endpoints in 3.5+): `{prefix}/{service}/{address}` (the
// default prefix is empty, so the key is `{service}/{address}`, the "target"
// of the Go API) → {"Op":0,"Addr":"host:port","Metadata":{…}|null}. The id is
// not stored: the key uses the address, and decoded instances get the key's
// last segment as id (the address for keys written by GRPCResolver, the
// endpoint key for those of the endpoints manager). Decoding also accepts
// values without "Op" and a "Metadata" that is not an object (kept as
// metadata["metadata"]).
[[nodiscard]] ETCDGRPC_EXPORT std::shared_ptr<const Codec> NamingCodec();

// "native", "kratos" or "naming"; InvalidArgument for anything else.
[[nodiscard]] ETCDGRPC_EXPORT absl::StatusOr<std::shared_ptr<const Codec>> CodecByName(
    std::string_view name);

// The root prefix joined with a child: "/services" + "x" → "/services/x";
// a prefix ending with '/' is not doubled; an empty prefix adds nothing.
[[nodiscard]] ETCDGRPC_EXPORT std::string JoinKey(std::string_view prefix, std::string_view child);

}  // namespace etcdgrpc::registry
