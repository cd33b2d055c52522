#include "registry/internal/json_text.h"

#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "registry/internal/text.h"

namespace etcdgrpc::registry::internal {

absl::Status BadValue(std::string_view key, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("registry value at ", Printable(key), " ", ToAbsl(what)));
}

absl::StatusOr<nlohmann::json> ParseObject(std::string_view key, std::string_view value) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(value.begin(), value.end());
  } catch (const std::exception& e) {
    // nlohmann's message names the byte where parsing stopped.
    return BadValue(key, absl::StrCat("is not valid JSON (", e.what(), "): \"",
                                      Printable(value.substr(0, 80)), "\""));
  }
  if (!json.is_object()) return BadValue(key, "is not a JSON object");
  return json;
}

absl::StatusOr<std::string> Dump(const nlohmann::ordered_json& json) {
  try {
    return json.dump();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot encode the instance: ", e.what()));
  }
}

absl::StatusOr<std::string> DumpGoStyle(const nlohmann::ordered_json& json) {
  absl::StatusOr<std::string> text = Dump(json);
  if (!text.ok()) return text;
  // These characters can only occur inside strings in JSON text, so plain
  // replacement is exact. nlohmann already escapes '"', '\\' and control
  // characters the way Go (1.22 and later) does: \n, \r, \t, \b, \f, \u00xx.
  return absl::StrReplaceAll(*text, {{"<", "\\u003c"},
                                     {">", "\\u003e"},
                                     {"&", "\\u0026"},
                                     {"\xE2\x80\xA8", "\\u2028"},
                                     {"\xE2\x80\xA9", "\\u2029"}});
}

nlohmann::ordered_json MetadataObject(const std::map<std::string, std::string>& m) {
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  for (const auto& [k, v] : m) object[k] = v;
  return object;
}

absl::StatusOr<std::map<std::string, std::string>> ReadMetadata(std::string_view key,
                                                                const nlohmann::json& json,
                                                                std::string_view field) {
  std::map<std::string, std::string> metadata;
  if (json.is_null()) return metadata;
  if (!json.is_object()) {
    return BadValue(key, absl::StrCat("has a \"", ToAbsl(field), "\" that is not an object"));
  }
  for (const auto& [k, v] : json.items()) {
    metadata[k] = v.is_string() ? v.get<std::string>() : v.dump();
  }
  return metadata;
}

absl::StatusOr<std::string> OptionalString(std::string_view key, const nlohmann::json& object,
                                           std::string_view field) {
  auto it = object.find(std::string(field));
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    return BadValue(key, absl::StrCat("has a \"", ToAbsl(field), "\" that is not a string"));
  }
  return it->get<std::string>();
}

}  // namespace etcdgrpc::registry::internal
