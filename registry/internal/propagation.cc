// WaitUntilApplied: a linearizable read, then every member's revision.
#include "registry/internal/propagation.h"

#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/clock.h"
#include "common/mutex.h"

namespace etcdgrpc::registry::internal {
namespace {

using ::etcdgrpc::internal::CondVar;
using ::etcdgrpc::internal::MonoNow;
using ::etcdgrpc::internal::Mutex;
using ::etcdgrpc::internal::MutexLock;

// Answers of asynchronous calls, which may arrive after the wait gave up:
// the callbacks hold it.
struct Answers {
  Mutex mu;
  CondVar changed;
  int outstanding ABSL_GUARDED_BY(mu) = 0;
  int64_t read_revision ABSL_GUARDED_BY(mu) = 0;
  absl::Status read_status ABSL_GUARDED_BY(mu) = absl::UnknownError("no answer");
  // Per endpoint: its revision, or the error it answered.
  std::map<std::string, absl::StatusOr<int64_t>> members ABSL_GUARDED_BY(mu);
};

}  // namespace

Propagation WaitUntilApplied(Client& client, const std::string& key, absl::Time deadline) {
  Propagation result;
  auto answers = std::make_shared<Answers>();
  {
    MutexLock lock(&answers->mu);
    answers->outstanding = 1;
  }
  client.GetAsync(key, {}, [answers](absl::StatusOr<GetResult> got) {
    MutexLock lock(&answers->mu);
    answers->read_status = got.status();
    if (got.ok()) answers->read_revision = got->header.revision;
    --answers->outstanding;
    answers->changed.Notify();
  });
  int64_t revision = 0;
  {
    MutexLock lock(&answers->mu);
    answers->changed.WaitUntil(answers->mu, deadline, [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return answers->outstanding == 0;
    });
    if (answers->outstanding != 0) {
      result.status = absl::DeadlineExceededError(
          absl::StrCat("reading ", key, " to learn the revision to wait for: no answer in time"));
      return result;
    }
    if (!answers->read_status.ok()) {
      result.status = answers->read_status;
      return result;
    }
    revision = answers->read_revision;
  }

  const std::vector<std::string>& endpoints = client.endpoints();
  result.members = static_cast<int>(endpoints.size());
  std::vector<std::string> pending = endpoints;
  std::vector<std::string> behind;
  while (!pending.empty()) {
    {
      MutexLock lock(&answers->mu);
      answers->outstanding = static_cast<int>(pending.size());
      for (const std::string& endpoint : pending) answers->members.erase(endpoint);
    }
    for (const std::string& endpoint : pending) {
      client.maintenance().StatusAsync(endpoint,
                                       [answers, endpoint](absl::StatusOr<EndpointStatus> status) {
                                         MutexLock lock(&answers->mu);
                                         if (status.ok()) {
                                           answers->members[endpoint] = status->header.revision;
                                         } else {
                                           answers->members[endpoint] = status.status();
                                         }
                                         --answers->outstanding;
                                         answers->changed.Notify();
                                       });
    }
    std::vector<std::string> next;
    behind.clear();
    {
      MutexLock lock(&answers->mu);
      answers->changed.WaitUntil(answers->mu, deadline, [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return answers->outstanding == 0;
      });
      for (const std::string& endpoint : pending) {
        auto it = answers->members.find(endpoint);
        if (it == answers->members.end() || !it->second.ok()) {
          ++result.unreachable;
        } else if (*it->second >= revision) {
          ++result.applied;
        } else {
          next.push_back(endpoint);
        }
      }
    }
    if (next.empty()) break;
    if (MonoNow() + absl::Milliseconds(5) >= deadline) {
      behind = std::move(next);
      break;
    }
    absl::SleepFor(absl::Milliseconds(5));
    pending = std::move(next);
  }
  if (!behind.empty()) {
    result.status = absl::DeadlineExceededError(
        absl::StrCat("etcd members ", absl::StrJoin(behind, ", "), " had not applied revision ",
                     revision, " (the removal) in time"));
  }
  return result;
}

}  // namespace etcdgrpc::registry::internal
