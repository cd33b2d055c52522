// One real etcd shared by all tests of an integration binary (started on first
// use, stopped when the tests end), and a key prefix unique to each test so
// tests on the shared etcd do not see each other's keys.
#pragma once

#include <string>

#include "local_etcd.h"

namespace etcdgrpc::testing {

// The shared etcd, or nullptr (with a test failure recorded) if it cannot start.
LocalEtcd* SharedEtcd();

// "/test/<suite>/<test>/" for the running test.
std::string TestPrefix();

}  // namespace etcdgrpc::testing
