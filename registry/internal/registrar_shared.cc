#include "registry/internal/registrar_shared.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/backoff.h"
#include "registry/internal/text.h"

namespace etcdgrpc::registry::internal {
namespace {

// Room for everything in the registration Txn besides the key (which
// appears three times: compare, put, get) and the value.
constexpr int64_t kTxnOverheadBytes = 512;

absl::Status CheckOptions(const RegistrarOptions& options) {
  if (options.ttl < absl::Seconds(1)) {
    return absl::InvalidArgumentError(absl::StrCat("registration TTL must be at least 1s, got ",
                                                   absl::FormatDuration(options.ttl)));
  }
  const BackoffOptions& b = options.retry_backoff;
  if (b.initial <= absl::ZeroDuration() || b.max < b.initial || b.multiplier < 1.0 ||
      b.jitter < 0.0 || b.jitter >= 1.0) {
    return absl::InvalidArgumentError(
        "retry_backoff needs initial > 0, max >= initial, multiplier >= 1 and 0 <= jitter < 1");
  }
  if (options.max_request_bytes <= kTxnOverheadBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_request_bytes must exceed ", kTxnOverheadBytes));
  }
  return absl::OkStatus();
}

int64_t WholeSeconds(absl::Duration ttl) {
  const int64_t seconds = absl::ToInt64Seconds(ttl);
  return ttl > absl::Seconds(seconds) ? seconds + 1 : seconds;
}

}  // namespace

RegistrarShared::RegistrarShared(Client& client, RegistrarOptions options)
    : client_(client.Share()),
      options_(std::move(options)),
      codec_(options_.codec != nullptr ? options_.codec : NativeCodec()),
      prefix_(options_.prefix.has_value() ? *options_.prefix
                                          : std::string(codec_->default_prefix())),
      options_status_(CheckOptions(options_)),
      ttl_seconds_(WholeSeconds(options_.ttl)),
      listeners_(ListenerRunner::Create(client_->options().slow_listener_handoff, &scheduler_)) {}

RegistrarShared::~RegistrarShared() { Shutdown(); }

void RegistrarShared::Shutdown() {
  shut_down_.store(true, std::memory_order_release);
  listeners_->Shutdown();
  scheduler_.Shutdown();
}

bool RegistrarShared::SameAddress(const ServiceInstance& instance, const std::string& key,
                                  const std::string& value) const {
  absl::StatusOr<ServiceInstance> held = codec_->Decode(instance.service, key, value);
  return held.ok() && held->address == instance.address;
}

std::string RegistrarShared::KeyOf(const ServiceInstance& instance) const {
  return codec_->Key(prefix_, instance);
}

std::string RegistrarShared::KeyFor(const ServiceInstance& instance, int64_t lease_id) const {
  return codec_->key_uses_lease() ? codec_->LeaseKey(prefix_, instance, lease_id)
                                  : codec_->Key(prefix_, instance);
}

std::string RegistrarShared::LongestKey(const ServiceInstance& instance) const {
  return KeyFor(instance, std::numeric_limits<int64_t>::max());
}

absl::StatusOr<std::string> RegistrarShared::Encode(const ServiceInstance& instance,
                                                    const std::string& key) const {
  if (absl::Status s = ValidateInstance(instance); !s.ok()) return s;
  if (absl::Status s = codec_->Validate(instance); !s.ok()) return s;
  absl::StatusOr<std::string> value = codec_->Encode(instance);
  if (!value.ok()) return value;
  const int64_t size = 3 * static_cast<int64_t>(key.size()) + static_cast<int64_t>(value->size()) +
                       kTxnOverheadBytes;
  if (size > options_.max_request_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the value of ", Printable(key), " (", value->size(),
                     " bytes) makes the registration request exceed etcd's request limit of ",
                     options_.max_request_bytes, " bytes (RegistrarOptions::max_request_bytes)"));
  }
  return value;
}

absl::Duration RegistrarShared::RetryDelay(int attempt) {
  MutexLock lock(&mu_);
  return ::etcdgrpc::internal::Backoff::Delay(options_.retry_backoff, attempt, random_);
}

void RegistrarShared::Track(const std::shared_ptr<RegistrationCore>& core) {
  MutexLock lock(&mu_);
  live_[core.get()] = core;
}

void RegistrarShared::Forget(const RegistrationCore* core) {
  MutexLock lock(&mu_);
  live_.erase(core);
}

std::vector<std::shared_ptr<RegistrationCore>> RegistrarShared::TakeLive() {
  std::vector<std::shared_ptr<RegistrationCore>> live;
  MutexLock lock(&mu_);
  for (auto& [ptr, weak] : live_) {
    if (auto core = weak.lock()) live.push_back(std::move(core));
  }
  live_.clear();
  return live;
}

}  // namespace etcdgrpc::registry::internal
