// How service instances are laid out in etcd: the key of an instance, the
// prefix of a service's keys and the value's format. Five codecs come with
// the library: native, Kratos, etcd's Go gRPC naming records, go-zero and a
// plain host:port value (docs/codecs.md: each layout and the Go source it is
// measured against).
#pragma once

#include <cstdint>
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

  // "native", "kratos", "naming", "gozero" or "hostport" for the built-in
  // codecs (their options do not change the name).
  [[nodiscard]] virtual std::string_view name() const = 0;
  // The root prefix used when RegistrarOptions::prefix is not set.
  [[nodiscard]] virtual std::string_view default_prefix() const = 0;

  // Rules of this layout beyond ValidateInstance() (which always applies).
  [[nodiscard]] virtual absl::Status Validate(const ServiceInstance& /*instance*/) const {
    return absl::OkStatus();
  }
  // The key of `instance` under the root `prefix`. For a layout whose key
  // names the lease (key_uses_lease()), the key of a decoded instance (whose
  // id is the key's lease segment).
  [[nodiscard]] virtual std::string Key(std::string_view prefix,
                                        const ServiceInstance& instance) const = 0;
  // True when the key names the lease it is written with (go-zero's
  // `{key}/{lease id}`): a Registrar then builds the key with LeaseKey()
  // after each Grant, so a registration's key changes with its lease, and
  // the key of the old lease goes away with that lease.
  [[nodiscard]] virtual bool key_uses_lease() const { return false; }
  // The key a Registrar writes `instance` at with lease `lease_id`; Key()
  // for the layouts whose key does not name the lease.
  [[nodiscard]] virtual std::string LeaseKey(std::string_view prefix,
                                             const ServiceInstance& instance,
                                             int64_t /*lease_id*/) const {
    return Key(prefix, instance);
  }
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

  // The weight of an endpoint whose metadata has no usable "weight": what
  // the Go clients of this layout assume (Kratos: 100), so that a fleet of
  // instances with and without weights is balanced as they balance it.
  [[nodiscard]] virtual int default_weight() const { return 1; }
  // Whether resolvers following this layout keep their last endpoints when
  // most of a service vanishes at once (as Kratos' resolver refuses to
  // publish an empty set) unless told otherwise.
  [[nodiscard]] virtual bool protects_against_mass_disappearance() const { return false; }
};

// `{prefix}/{service}/{id}` → {"service","id","address","metadata":{…},
// "registered_at":"<RFC 3339 UTC>"}. Default prefix "/services".
[[nodiscard]] ETCDGRPC_EXPORT std::shared_ptr<const Codec> NativeCodec();

struct ETCDGRPC_EXPORT KratosCodecOptions {
  // The servers serve gRPC over TLS and the clients dial with TLS. Encode
  // writes `grpcs://host:port`, as a Kratos gRPC server with a TLS config
  // does; Decode keeps only grpcs:// endpoints, as a Kratos client dialing
  // with TLS does. false: grpc:// both ways (Kratos' insecure server and
  // DialInsecure). Pair `true` with TLS ResolverOptions::channel_credentials.
  bool secure = false;
};

// go-kratos' etcd registry: `{prefix}/{service}/{id}` (default prefix
// "/microservices", Kratos' namespace) → {"id","name","version","metadata",
// "endpoints":["grpc://host:port"]}, byte for byte as Go's json.Marshal writes
// Kratos' registry.ServiceInstance. metadata["version"] is the "version"
// field. As Kratos' gRPC resolver does, decoding takes the first endpoint of
// the scheme its clients dial (grpc://, or grpcs:// when `secure`; Kratos'
// older `grpc://…?isSecure=true` counts as grpcs://) and an instance with
// none (only http://, or only the other gRPC scheme) is InvalidArgument,
// which resolvers skip and report. A missing weight is 100 (Kratos'
// default), and resolvers protect against mass disappearance by default.
[[nodiscard]] ETCDGRPC_EXPORT std::shared_ptr<const Codec> KratosCodec(
    const KratosCodecOptions& options);
[[nodiscard]] ETCDGRPC_EXPORT std::shared_ptr<const Codec> KratosCodec();

// etcd's Go gRPC naming records (clientv3/naming GRPCResolver in etcd 3.4,
// client/v3/naming/endpoints in 3.5+): `{prefix}/{service}/{address}` (the
// default prefix is empty, so the key is `{service}/{address}`, the "target"
// of the Go API) → {"Op":0,"Addr":"host:port","Metadata":{…}|null}. The id is
// not stored: the key uses the address, and decoded instances get the key's
// last segment as id (the address for keys written by GRPCResolver, the
// endpoint key for those of the endpoints manager). Decoding also accepts
// values without "Op" and a "Metadata" that is not an object (kept as
// metadata["metadata"]), and an "Addr" without a port (etcd's own examples
// write "Addr":"1.2.3.4"), which gets NamingCodecOptions::default_port.
struct ETCDGRPC_EXPORT NamingCodecOptions {
  // false: write "Metadata":null whatever the instance's metadata. grpc-go
  // up to at least 1.33 (Debian 12's golang-google-grpc-dev) panics in its
  // round_robin balancer ("hash of unhashable type map[string]interface
  // {}") when a record etcd's Go resolver hands it carries metadata, so
  // instances that Go clients of that version dial must be written without.
  bool write_metadata = true;
  // The port of an "Addr" that has none: 443, gRPC's default port for a
  // target without one (what gRPC C++ dials for such a name). 0: such a
  // record is InvalidArgument (resolvers skip and report it). grpc-go dials
  // such an Addr as it is and fails ("missing port in address").
  int default_port = 443;
};
[[nodiscard]] ETCDGRPC_EXPORT std::shared_ptr<const Codec> NamingCodec(
    const NamingCodecOptions& options);
[[nodiscard]] ETCDGRPC_EXPORT std::shared_ptr<const Codec> NamingCodec();

// go-zero's etcd registry (core/discov Publisher): `{prefix}/{service}/{lease
// id}`, the lease id in decimal, → the plain address `host:port`. The default
// prefix is empty: go-zero's Etcd.Key ("user.rpc") is the service and the
// key is `user.rpc/7587869845395163151`. The key names the lease
// (key_uses_lease()): each registration with a new lease writes a new key.
// Decoded instances get the key's last segment as id and no metadata; a
// value that is not host:port is InvalidArgument.
[[nodiscard]] ETCDGRPC_EXPORT std::shared_ptr<const Codec> GoZeroCodec();

// A plain address: `{prefix}/{service}/{id}` → `host:port` (default prefix
// "/services", shared with the native layout: do not mix the two under one
// service). No metadata is stored; a value that is not host:port is
// InvalidArgument.
[[nodiscard]] ETCDGRPC_EXPORT std::shared_ptr<const Codec> HostPortCodec();

// "native", "kratos", "kratos-grpcs" (KratosCodec({.secure = true})),
// "naming", "naming-no-metadata" (NamingCodec({.write_metadata = false})),
// "gozero" or "hostport"; InvalidArgument for anything else.
[[nodiscard]] ETCDGRPC_EXPORT absl::StatusOr<std::shared_ptr<const Codec>> CodecByName(
    std::string_view name);

// The root prefix joined with a child: "/services" + "x" → "/services/x";
// a prefix ending with '/' is not doubled; an empty prefix adds nothing.
[[nodiscard]] ETCDGRPC_EXPORT std::string JoinKey(std::string_view prefix, std::string_view child);

}  // namespace etcdgrpc::registry
