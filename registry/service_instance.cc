#include "etcdgrpc/registry/service_instance.h"

#include <cstdint>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "registry/internal/text.h"

namespace etcdgrpc::registry {
namespace {

absl::Status ValidateName(const char* field, const std::string& value) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " must not be empty"));
  if (value.find('/') != std::string::npos) {
    // '/' separates the key's segments: a service "a/b" would read as
    // service "a" with id "b/…".
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must not contain '/': \"", internal::Printable(value), "\""));
  }
  if (!IsValidUtf8(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is not valid UTF-8: \"", internal::Printable(value), "\""));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      ++i;
      continue;
    }
    size_t length;
    uint32_t code;
    uint32_t min;
    if ((byte & 0xE0) == 0xC0) {
      length = 2, code = byte & 0x1F, min = 0x80;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3, code = byte & 0x0F, min = 0x800;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4, code = byte & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (n - i < length) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += length;
  }
  return true;
}

absl::Status ValidateAddress(std::string_view address) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("address \"", internal::Printable(address),
                                                   "\" is not host:port (", internal::ToAbsl(why),
                                                   ")"));
  };
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return bad("no port");
  const std::string_view host = address.substr(0, colon);
  const std::string_view port = address.substr(colon + 1);
  if (host.empty()) return bad("empty host");
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad("unterminated IPv6 address");
  } else if (host.find(':') != std::string_view::npos) {
    return bad("an IPv6 address must be in brackets");
  }
  for (char c : host) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '/' || c == '\x7f') {
      return bad("the host contains a space, control character or '/'");
    }
  }
  uint32_t number = 0;
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string_view::npos ||
      !absl::SimpleAtoi(internal::ToAbsl(port), &number) || number == 0 || number > 65535) {
    return bad("the port must be a number in 1..65535");
  }
  return absl::OkStatus();
}

absl::Status ValidateInstance(const ServiceInstance& instance) {
  if (absl::Status s = ValidateName("service name", instance.service); !s.ok()) return s;
  if (absl::Status s = ValidateName("instance id", instance.id); !s.ok()) return s;
  if (absl::Status s = ValidateAddress(instance.address); !s.ok()) return s;
  for (const auto& [key, value] : instance.metadata) {
    if (key.empty()) return absl::InvalidArgumentError("metadata key must not be empty");
    if (!IsValidUtf8(key)) {
      return absl::InvalidArgumentError(
          absl::StrCat("metadata key \"", internal::Printable(key), "\" is not valid UTF-8"));
    }
    if (!IsValidUtf8(value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("metadata value of \"", internal::Printable(key),
                       "\" is not valid UTF-8: \"", internal::Printable(value), "\""));
    }
  }
  return absl::OkStatus();
}

}  // namespace etcdgrpc::registry
