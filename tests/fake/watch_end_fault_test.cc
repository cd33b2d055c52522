// The registry's and the resolver's key watches when etcd cancels them with
// a reason that is not a compaction (CANCELLED on the client): they are
// started again from the next revision, with backoff, and nothing already
// known is dropped. The real etcd does this only in narrow cases, so the
// fake etcd sends the cancel.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/mutex.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/registry/codec.h"
#include "etcdgrpc/registry/registrar.h"
#include "etcdgrpc/resolver/resolver.h"
#include "fake_etcd.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "status_matchers.h"

namespace etcdgrpc {
namespace {

using ::etcdgrpc::testing::FakeEtcd;
using ::etcdgrpc::testing::IsOk;
using ::testing::HasSubstr;

etcdserverpb::WatchResponse Response(const std::string& text) {
  etcdserverpb::WatchResponse response;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &response)) << text;
  return response;
}

std::string Value(const registry::ServiceInstance& instance) {
  return registry::NativeCodec()->Encode(instance).value_or("");
}

class ProblemLog : public resolver::ServiceListener {
 public:
  void OnUpdate(const resolver::EndpointSet&, const resolver::EndpointChanges& changes) override {
    internal::MutexLock lock(&mu_);
    removed_ += static_cast<int>(changes.removed.size());
  }
  void OnProblem(const absl::Status& problem) override {
    internal::MutexLock lock(&mu_);
    problems_.push_back(problem);
  }
  std::vector<absl::Status> problems() {
    internal::MutexLock lock(&mu_);
    return problems_;
  }
  int removed() {
    internal::MutexLock lock(&mu_);
    return removed_;
  }

 private:
  internal::Mutex mu_;
  std::vector<absl::Status> problems_ ABSL_GUARDED_BY(mu_);
  int removed_ ABSL_GUARDED_BY(mu_) = 0;
};

class WatchEndFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<FakeEtcd>> fake = FakeEtcd::Start();
    ASSERT_THAT(fake, IsOk());
    fake_ = *std::move(fake);
    ClientOptions options;
    options.endpoints = {fake_->endpoint()};
    options.request_timeout = absl::Seconds(2);
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
    ASSERT_THAT(client, IsOk());
    client_ = *std::move(client);
  }
  void TearDown() override {
    client_.reset();
    fake_.reset();
  }
  // The `n`th request (0-based) on the watch stream, waited for.
  etcdserverpb::WatchRequest Request(size_t n) {
    EXPECT_TRUE(fake_->watch().WaitForRequests(0, n + 1, absl::Seconds(10)))
        << "watch request " << n << " not sent";
    std::vector<etcdserverpb::WatchRequest> requests = fake_->watch().requests(0);
    return n < requests.size() ? requests[n] : etcdserverpb::WatchRequest();
  }
  void Created(int64_t id, int64_t revision) {
    ASSERT_TRUE(fake_->watch().Send(Response(
        absl::StrCat("header { revision: ", revision, " } watch_id: ", id, " created: true"))));
  }
  void Cancel(int64_t id, int64_t revision) {
    ASSERT_TRUE(fake_->watch().Send(
        Response(absl::StrCat("header { revision: ", revision, " } watch_id: ", id,
                              " canceled: true cancel_reason: \"etcdserver: injected cancel\""))));
  }

  std::unique_ptr<FakeEtcd> fake_;
  std::unique_ptr<Client> client_;
};

TEST_F(WatchEndFaultTest, ResolverWatchCancelledByEtcdStartsAgainFromTheNextRevision) {
  const registry::ServiceInstance a{.service = "svc", .id = "a", .address = "127.0.0.1:1"};
  const registry::ServiceInstance b{.service = "svc", .id = "b", .address = "127.0.0.1:2"};
  fake_->kv().Set({{"/services/svc/a", Value(a)}}, 10);
  resolver::Resolver resolver(*client_);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<resolver::ServiceView> view, resolver.Watch("svc"));
  ProblemLog log;
  resolver::ServiceView::Subscription subscription = view->Subscribe(&log);
  const etcdserverpb::WatchCreateRequest first = Request(0).create_request();
  EXPECT_EQ(first.start_revision(), 11);
  Created(first.watch_id(), 10);
  ASSERT_TRUE(fake_->watch().Send(
      Response(absl::StrCat("header { revision: 12 } watch_id: ", first.watch_id(),
                            " events { kv { key: \"/services/svc/b\" value: ", "'", Value(b), "'",
                            " mod_revision: 12 create_revision: 12 version: 1 } }"))));
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (view->snapshot()->revision < 12 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(view->snapshot()->endpoints.size(), 2u);

  Cancel(first.watch_id(), 12);
  // Watched again, from the revision after the last event, on the same
  // stream; not listed again.
  const etcdserverpb::WatchRequest again = Request(1);
  ASSERT_TRUE(again.has_create_request()) << again.DebugString();
  EXPECT_EQ(again.create_request().key(), "/services/svc/");
  EXPECT_EQ(again.create_request().start_revision(), 13);
  EXPECT_EQ(view->snapshot()->endpoints.size(), 2u);  // nothing dropped meanwhile
  EXPECT_EQ(view->stats().relists, 0);
  EXPECT_EQ(view->stats().rewatches, 1);
  EXPECT_EQ(log.removed(), 0);
  ASSERT_FALSE(log.problems().empty());
  EXPECT_THAT(log.problems().back().message(), HasSubstr("injected cancel"));
  EXPECT_THAT(log.problems().back().message(), HasSubstr("watching again from revision 13"));

  // The new watch is the one followed.
  const int64_t id = again.create_request().watch_id();
  Created(id, 12);
  ASSERT_TRUE(fake_->watch().Send(Response(
      absl::StrCat("header { revision: 14 } watch_id: ", id,
                   " events { type: DELETE kv { key: \"/services/svc/a\" mod_revision: 14 } }"))));
  const absl::Time later = absl::Now() + absl::Seconds(10);
  while (view->snapshot()->revision < 14 && absl::Now() < later) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(view->snapshot()->endpoints.size(), 1u);
  EXPECT_EQ(view->snapshot()->endpoints[0]->instance.id, "b");
}

TEST_F(WatchEndFaultTest, RegistrationWatchCancelledByEtcdStartsAgain) {
  fake_->kv().Set({}, 20);
  registry::Registrar registrar(*client_, {.ttl = absl::Seconds(10)});
  ASSERT_OK_AND_ASSIGN(
      registry::Registration registration,
      registrar.Register({.service = "svc", .id = "one", .address = "127.0.0.1:1"}));
  // The registration's Txn was answered at revision 21: its key is watched
  // from 22.
  const etcdserverpb::WatchCreateRequest first = Request(0).create_request();
  EXPECT_EQ(first.key(), "/services/svc/one");
  EXPECT_EQ(first.start_revision(), 22);
  Created(first.watch_id(), 21);
  Cancel(first.watch_id(), 21);
  const etcdserverpb::WatchRequest again = Request(1);
  ASSERT_TRUE(again.has_create_request()) << again.DebugString();
  EXPECT_EQ(again.create_request().key(), "/services/svc/one");
  EXPECT_EQ(again.create_request().start_revision(), 22);
  // Still registered: a watch ending is not a loss.
  EXPECT_EQ(registration.state(), registry::RegistrationState::kRegistered);
  // Cancelled again: watched again, after a longer wait.
  const int64_t id = again.create_request().watch_id();
  Created(id, 21);
  Cancel(id, 21);
  const etcdserverpb::WatchRequest third = Request(2);
  EXPECT_EQ(third.create_request().start_revision(), 22);
  EXPECT_EQ(registration.state(), registry::RegistrationState::kRegistered);
}

}  // namespace
}  // namespace etcdgrpc
