// The auth token of a client with a username and password: sent with every
// call and stream, obtained with Auth.Authenticate, renewed when etcd refuses
// it; one Authenticate at a time, so concurrent refusals cause one renewal.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/mutex.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace etcdgrpc::internal {

class AuthToken {
 public:
  AuthToken(std::string username, std::string password)
      : username_(std::move(username)), password_(std::move(password)) {}

  bool has_credentials() const { return !username_.empty(); }
  const std::string& username() const { return username_; }
  // True when credentials are set but no token was obtained yet.
  bool Missing() const;
  // Adds the token to a call's metadata; returns its generation (0: none),
  // for Refresh().
  uint64_t AddTo(grpc::ClientContext* context) const;

  // `authenticate(username, password)` returns a token (empty: etcd has
  // authentication disabled, calls go without one, as etcd's Go client
  // does) or the error to report.
  using Authenticate = absl::FunctionRef<absl::StatusOr<std::string>(const std::string& username,
                                                                     const std::string& password)>;
  // The client changed `username`'s password through etcd (Auth facade):
  // when that is this client's user, later Authenticate calls use `password`.
  // Waits for an Authenticate in progress.
  void PasswordChanged(std::string_view username, std::string_view password);

  // Gets a new token unless the current one is newer than
  // `refused_generation` (another call already renewed it); pass 0 to get
  // the first token.
  [[nodiscard]] absl::Status Refresh(uint64_t refused_generation, Authenticate authenticate);

  // etcd refused a call because of its token, before acting on it: "invalid
  // auth token" (expired, or etcd restarted and forgot simple tokens),
  // "revision of auth store is old", "user name is empty" (no token sent). A
  // new token and one retry fix these.
  static bool IsRefused(const grpc::Status& status);
  // "revision of auth store is old": users or roles changed while etcd handled
  // the call; the call, repeated, may pass (also without a token).
  static bool IsOldRevision(const grpc::Status& status);
  static bool IsRefusedReason(absl::string_view message);

 private:
  struct Token {
    std::string value;  // empty: etcd has authentication disabled
    uint64_t generation = 0;
  };
  const std::string username_;
  // Serializes Authenticate calls and password changes; taken before token_mu_.
  Mutex auth_mu_;
  std::string password_ ABSL_GUARDED_BY(auth_mu_);
  mutable Mutex token_mu_;
  // Null until the first Authenticate.
  std::shared_ptr<const Token> token_ ABSL_GUARDED_BY(token_mu_);
};

}  // namespace etcdgrpc::internal
