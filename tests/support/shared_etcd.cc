#include "shared_etcd.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace etcdgrpc::testing {
namespace {

std::unique_ptr<LocalEtcd>& Instance() {
  static auto* instance = new std::unique_ptr<LocalEtcd>();
  return *instance;
}

// Stops the etcd when the test program ends, also when tests failed.
class SharedEtcdEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { Instance().reset(); }
};

[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new SharedEtcdEnvironment);

}  // namespace

LocalEtcd* SharedEtcd() {
  std::unique_ptr<LocalEtcd>& instance = Instance();
  if (!instance) {
    absl::StatusOr<std::unique_ptr<LocalEtcd>> started = LocalEtcd::Start();
    if (!started.ok()) {
      ADD_FAILURE() << "cannot start etcd: " << started.status();
      return nullptr;
    }
    instance = *std::move(started);
  }
  return instance.get();
}

std::string TestPrefix() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  if (info == nullptr) return "/test/";
  return absl::StrCat("/test/", info->test_suite_name(), "/", info->name(), "/");
}

SharedEtcdTest::SharedEtcdTest(TestClientOptions client_options)
    : client_options_(std::move(client_options)) {}

void SharedEtcdTest::SetUp() {
  etcd_ = SharedEtcd();
  ASSERT_NE(etcd_, nullptr);
  client_ = ConnectTo(etcd_->ClientEndpoints(), client_options_);
  ASSERT_NE(client_, nullptr);
}

}  // namespace etcdgrpc::testing
