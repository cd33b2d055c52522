// One real etcd shared by all tests of an integration binary (started on first
// use, stopped when the tests end), a key prefix unique to each test so
// tests on the shared etcd do not see each other's keys, and a fixture with a
// client of that etcd.
#pragma once

#include <memory>
#include <string>

#include "etcdgrpc/client.h"
#include "gtest/gtest.h"
#include "local_etcd.h"
#include "test_client.h"

namespace etcdgrpc::testing {

// The shared etcd, or nullptr (with a test failure recorded) if it cannot start.
LocalEtcd* SharedEtcd();

// "/test/<suite>/<test>/" for the running test.
std::string TestPrefix();

// A test on the shared etcd: SetUp() sets etcd_ and connects client_ to it with the options
// the derived fixture passes to the constructor; the test fails if either is missing. A derived
// SetUp() starts with ASSERT_NO_FATAL_FAILURE(SharedEtcdTest::SetUp()).
class SharedEtcdTest : public ::testing::Test {
 protected:
  explicit SharedEtcdTest(TestClientOptions client_options = {});
  void SetUp() override;

  LocalEtcd* etcd_ = nullptr;
  std::unique_ptr<Client> client_;

 private:
  TestClientOptions client_options_;
};

}  // namespace etcdgrpc::testing
