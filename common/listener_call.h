// Calls user listeners so that an exception thrown by one cannot take down a
// stream thread: it is caught, logged, and reported to the caller as a status.
#pragma once

#include <exception>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "grpc/support/log.h"

namespace etcdgrpc::internal {

template <class F>
absl::Status CallListener(const char* what, F&& f) {
  try {
    f();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    std::string message = absl::StrCat("the ", what, " threw: ", e.what());
    gpr_log(GPR_ERROR, "etcdgrpc: %s", message.c_str());
    return absl::InternalError(message);
  } catch (...) {
    std::string message = absl::StrCat("the ", what, " threw a non-standard exception");
    gpr_log(GPR_ERROR, "etcdgrpc: %s", message.c_str());
    return absl::InternalError(message);
  }
}

}  // namespace etcdgrpc::internal
