// Client's Lease calls: Grant, Revoke, TimeToLive, Leases (unary), and
// KeepAliveOnce / Keep on the shared keep-alive stream.
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/mutex.h"
#include "etcdgrpc/client.h"
#include "lib/internal/async_calls.h"
#include "lib/internal/connection.h"
#include "lib/internal/kv_codec.h"
#include "lib/internal/lease_keeper.h"
#include "lib/internal/unary_call.h"

namespace etcdgrpc {
namespace {

absl::Status CheckId(int64_t id) {
  if (id <= 0) return absl::InvalidArgumentError(absl::StrCat("invalid lease id ", id));
  return absl::OkStatus();
}

absl::Status BuildGrant(int64_t ttl_seconds, int64_t id, etcdserverpb::LeaseGrantRequest* out) {
  if (ttl_seconds <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("lease TTL must be positive, got ", ttl_seconds, "s"));
  }
  if (id < 0) return absl::InvalidArgumentError(absl::StrCat("invalid lease id ", id));
  out->set_ttl(ttl_seconds);
  out->set_id(id);
  return absl::OkStatus();
}

LeaseGrantResult ParseGrant(etcdserverpb::LeaseGrantResponse& response) {
  return LeaseGrantResult{internal::ParseHeader(response.header()), response.id(), response.ttl()};
}

ResponseHeader ParseRevoke(etcdserverpb::LeaseRevokeResponse& response) {
  return internal::ParseHeader(response.header());
}

LeaseTimeToLiveResult ParseTimeToLive(etcdserverpb::LeaseTimeToLiveResponse& response) {
  LeaseTimeToLiveResult result;
  result.header = internal::ParseHeader(response.header());
  result.id = response.id();
  result.ttl = response.ttl();
  result.granted_ttl = response.grantedttl();
  for (std::string& key : *response.mutable_keys()) result.keys.push_back(std::move(key));
  return result;
}

LeaseListResult ParseLeases(etcdserverpb::LeaseLeasesResponse& response) {
  LeaseListResult result;
  result.header = internal::ParseHeader(response.header());
  for (const auto& lease : response.leases()) result.ids.push_back(lease.id());
  return result;
}

}  // namespace

absl::StatusOr<LeaseGrantResult> Client::Grant(int64_t ttl_seconds, int64_t id) {
  etcdserverpb::LeaseGrantRequest request;
  if (absl::Status s = BuildGrant(ttl_seconds, id, &request); !s.ok()) return s;
  const absl::Time sent_at = absl::Now();
  auto response = internal::CallUnary(*connection_, internal::kLeaseGrantRpc, request);
  if (!response.ok()) return response.status();
  LeaseGrantResult result = ParseGrant(*response);
  result.granted_at = sent_at;
  return result;
}

absl::StatusOr<ResponseHeader> Client::Revoke(int64_t id) {
  if (absl::Status s = CheckId(id); !s.ok()) return s;
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(id);
  auto response = internal::CallUnary(*connection_, internal::kLeaseRevokeRpc, request);
  if (!response.ok()) return response.status();
  lease_keeper_->Revoked(id);
  return ParseRevoke(*response);
}

absl::StatusOr<LeaseTimeToLiveResult> Client::TimeToLive(int64_t id, bool with_keys) {
  if (absl::Status s = CheckId(id); !s.ok()) return s;
  etcdserverpb::LeaseTimeToLiveRequest request;
  request.set_id(id);
  request.set_keys(with_keys);
  auto response = internal::CallUnary(*connection_, internal::kLeaseTimeToLiveRpc, request);
  if (!response.ok()) return response.status();
  return ParseTimeToLive(*response);
}

absl::StatusOr<LeaseListResult> Client::Leases() {
  etcdserverpb::LeaseLeasesRequest request;
  auto response = internal::CallUnary(*connection_, internal::kLeaseLeasesRpc, request);
  if (!response.ok()) return response.status();
  return ParseLeases(*response);
}

absl::StatusOr<LeaseKeepAliveResult> Client::KeepAliveOnce(int64_t id) {
  absl::StatusOr<LeaseKeepAliveResult> result;
  internal::Notification done;
  KeepAliveOnceAsync(id, [&](absl::StatusOr<LeaseKeepAliveResult> r) {
    result = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();  // bounded: the keeper completes it by its deadline
  return result;
}

absl::StatusOr<KeptLease> Client::Keep(int64_t id, LeaseListener* listener,
                                       const KeepOptions& options) {
  if (absl::Status s = CheckId(id); !s.ok()) return s;
  if (connection_->closed()) return internal::ClosedError();
  if (options.ttl < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("KeepOptions::ttl must not be negative, got ",
                                                   absl::FormatDuration(options.ttl)));
  }
  return KeptLease(lease_keeper_, lease_keeper_->Keep(id, listener, options), id);
}

void Client::GrantAsync(int64_t ttl_seconds, int64_t id, Callback<LeaseGrantResult> done) {
  etcdserverpb::LeaseGrantRequest request;
  if (absl::Status s = BuildGrant(ttl_seconds, id, &request); !s.ok()) {
    return std::move(done)(s);
  }
  internal::CallUnaryAsync(
      *connection_, *async_calls_, internal::kLeaseGrantRpc, std::move(request),
      [sent_at = absl::Now()](etcdserverpb::LeaseGrantResponse& response) {
        LeaseGrantResult result = ParseGrant(response);
        result.granted_at = sent_at;
        return result;
      },
      std::move(done));
}

void Client::RevokeAsync(int64_t id, Callback<ResponseHeader> done) {
  if (absl::Status s = CheckId(id); !s.ok()) return std::move(done)(s);
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(id);
  std::shared_ptr<internal::LeaseKeeper> keeper = lease_keeper_;
  internal::CallUnaryAsync(
      *connection_, *async_calls_, internal::kLeaseRevokeRpc, std::move(request), ParseRevoke,
      [keeper, id, done = std::move(done)](absl::StatusOr<ResponseHeader> result) mutable {
        if (result.ok()) keeper->Revoked(id);
        std::move(done)(std::move(result));
      });
}

void Client::TimeToLiveAsync(int64_t id, bool with_keys, Callback<LeaseTimeToLiveResult> done) {
  if (absl::Status s = CheckId(id); !s.ok()) return std::move(done)(s);
  etcdserverpb::LeaseTimeToLiveRequest request;
  request.set_id(id);
  request.set_keys(with_keys);
  internal::CallUnaryAsync(*connection_, *async_calls_, internal::kLeaseTimeToLiveRpc,
                           std::move(request), ParseTimeToLive, std::move(done));
}

void Client::LeasesAsync(Callback<LeaseListResult> done) {
  internal::CallUnaryAsync(*connection_, *async_calls_, internal::kLeaseLeasesRpc,
                           etcdserverpb::LeaseLeasesRequest(), ParseLeases, std::move(done));
}

void Client::KeepAliveOnceAsync(int64_t id, Callback<LeaseKeepAliveResult> done) {
  if (absl::Status s = CheckId(id); !s.ok()) return std::move(done)(s);
  lease_keeper_->KeepAliveOnce(id, std::move(done));
}

// --- KeptLease ----------------------------------------------------------------

KeptLease::KeptLease(std::shared_ptr<internal::LeaseKeeper> keeper,
                     std::shared_ptr<internal::LeaseHolder> holder, int64_t id)
    : keeper_(std::move(keeper)), holder_(std::move(holder)), id_(id) {}

KeptLease::KeptLease(KeptLease&& other) noexcept
    : keeper_(std::move(other.keeper_)), holder_(std::move(other.holder_)), id_(other.id_) {}

KeptLease& KeptLease::operator=(KeptLease&& other) noexcept {
  if (this != &other) {
    Stop();
    keeper_ = std::move(other.keeper_);
    holder_ = std::move(other.holder_);
    id_ = other.id_;
  }
  return *this;
}

KeptLease::~KeptLease() { Stop(); }

void KeptLease::Stop() {
  if (holder_ == nullptr) return;
  keeper_->Unkeep(holder_);
  holder_.reset();
  keeper_.reset();
}

}  // namespace etcdgrpc
