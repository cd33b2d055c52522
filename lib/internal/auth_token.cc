#include "lib/internal/auth_token.h"

#include <utility>

#include "absl/strings/match.h"

namespace etcdgrpc::internal {

bool AuthToken::Missing() const {
  if (!has_credentials()) return false;
  MutexLock lock(&token_mu_);
  return token_ == nullptr;
}

uint64_t AuthToken::AddTo(grpc::ClientContext* context) const {
  if (!has_credentials()) return 0;
  std::shared_ptr<const Token> token;
  {
    MutexLock lock(&token_mu_);
    token = token_;
  }
  if (token == nullptr) return 0;
  // etcd reads the token from the metadata key "token" (etcd's Go client
  // sends the same).
  if (!token->value.empty()) context->AddMetadata("token", token->value);
  return token->generation;
}

void AuthToken::PasswordChanged(std::string_view username, std::string_view password) {
  if (!has_credentials() || username != username_) return;
  MutexLock auth_lock(&auth_mu_);
  password_ = std::string(password);
}

absl::Status AuthToken::Refresh(uint64_t refused_generation, Authenticate authenticate) {
  MutexLock auth_lock(&auth_mu_);
  uint64_t generation = 0;
  {
    MutexLock lock(&token_mu_);
    if (token_ != nullptr) {
      // Someone else got a newer token while this caller waited.
      if (token_->generation != refused_generation) return absl::OkStatus();
      generation = token_->generation;
    }
  }
  absl::StatusOr<std::string> value = authenticate(username_, password_);
  if (!value.ok()) return value.status();
  auto token = std::make_shared<Token>();
  token->generation = generation + 1;
  token->value = *std::move(value);
  MutexLock lock(&token_mu_);
  token_ = std::move(token);
  return absl::OkStatus();
}

bool AuthToken::IsRefusedReason(absl::string_view message) {
  return absl::StrContains(message, "etcdserver: invalid auth token") ||
         absl::StrContains(message, "etcdserver: revision of auth store is old") ||
         absl::StrContains(message, "etcdserver: user name is empty");
}

bool AuthToken::IsOldRevision(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::INVALID_ARGUMENT &&
         absl::StrContains(status.error_message(), "etcdserver: revision of auth store is old");
}

bool AuthToken::IsRefused(const grpc::Status& status) {
  // etcd's ErrGRPCInvalidAuthToken is UNAUTHENTICATED; ErrGRPCAuthOldRevision
  // and ErrGRPCUserEmpty are INVALID_ARGUMENT.
  return (status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
          status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) &&
         IsRefusedReason(status.error_message());
}

}  // namespace etcdgrpc::internal
