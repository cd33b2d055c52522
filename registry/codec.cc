// The codec interface's shared parts and the lookup by name.
#include "etcdgrpc/registry/codec.h"

#include "absl/strings/str_cat.h"
#include "registry/internal/text.h"

namespace etcdgrpc::registry {
namespace {

constexpr char kCodecNames[] =
    "native, kratos, kratos-grpcs, naming, naming-no-metadata, gozero or hostport";

}  // namespace

std::string JoinKey(std::string_view prefix, std::string_view child) {
  std::string key(prefix);
  if (!key.empty() && key.back() != '/') key.push_back('/');
  key.append(child);
  return key;
}

std::string Codec::ServicePrefix(std::string_view prefix, std::string_view service) const {
  return JoinKey(prefix, service) + "/";
}

absl::StatusOr<std::shared_ptr<const Codec>> CodecByName(std::string_view name) {
  if (name == "native") return NativeCodec();
  if (name == "kratos") return KratosCodec();
  if (name == "kratos-grpcs") return KratosCodec(KratosCodecOptions{.secure = true});
  if (name == "naming") return NamingCodec();
  if (name == "naming-no-metadata") return NamingCodec(NamingCodecOptions{.write_metadata = false});
  if (name == "gozero") return GoZeroCodec();
  if (name == "hostport") return HostPortCodec();
  return absl::InvalidArgumentError(
      absl::StrCat("unknown codec \"", internal::Printable(name), "\" (", kCodecNames, ")"));
}

}  // namespace etcdgrpc::registry
