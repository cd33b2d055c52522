// JSON for the codecs, on nlohmann-json: parsing a stored value without
// exceptions escaping, writing text exactly as Go's encoding/json does (for
// the codecs that must match Go writers byte for byte), and metadata maps.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace etcdgrpc::registry::internal {

// The value at `key` as a JSON object; InvalidArgument naming the key (and
// the parser's complaint) when it is not valid JSON or not an object.
[[nodiscard]] absl::StatusOr<nlohmann::json> ParseObject(std::string_view key,
                                                         std::string_view value);

// InvalidArgument "registry value at <key> <what>".
[[nodiscard]] absl::Status BadValue(std::string_view key, std::string_view what);

// Serializes like Go's json.Marshal: no spaces, and '<', '>', '&', U+2028
// and U+2029 escaped as \u003c, \u003e, \u0026, \u2028, \u2029 (Go's HTML
// escaping). Fails (InvalidArgument) on invalid UTF-8.
[[nodiscard]] absl::StatusOr<std::string> DumpGoStyle(const nlohmann::ordered_json& json);
// Compact nlohmann output; fails (InvalidArgument) on invalid UTF-8.
[[nodiscard]] absl::StatusOr<std::string> Dump(const nlohmann::ordered_json& json);

// A JSON object of the metadata, keys in byte order (as Go sorts map keys).
[[nodiscard]] nlohmann::ordered_json MetadataObject(const std::map<std::string, std::string>& m);

// Reads an object's members as metadata: strings as they are, other values
// as their JSON text. InvalidArgument (naming the key) when `json` is not an
// object; null gives an empty map.
[[nodiscard]] absl::StatusOr<std::map<std::string, std::string>> ReadMetadata(
    std::string_view key, const nlohmann::json& json, std::string_view field);

// The member `field` as a string: "" when absent or null; InvalidArgument
// naming the key when it is another type.
[[nodiscard]] absl::StatusOr<std::string> OptionalString(std::string_view key,
                                                         const nlohmann::json& object,
                                                         std::string_view field);

}  // namespace etcdgrpc::registry::internal
