#include "concurrency/internal/write_outcome.h"

#include "etcdgrpc/errors.h"

namespace etcdgrpc::concurrency::internal {

absl::Status SessionErrorOf(Session& session, const absl::Status& error) {
  if (IsLeaseNotFound(error)) session.MarkLost(error);
  return session.status();
}

bool MayHaveBeenApplied(const absl::Status& error) {
  return absl::IsUnavailable(error) || absl::IsDeadlineExceeded(error);
}

}  // namespace etcdgrpc::concurrency::internal
