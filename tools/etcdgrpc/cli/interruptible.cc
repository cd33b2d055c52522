#include "cli/interruptible.h"

#include <atomic>
#include <thread>

#include "cli/fields_format.h"
#include "cli/json_format.h"
#include "cli/protobuf_format.h"
#include "cli/simple_format.h"

namespace etcdgrpc::cli {

WaitOutcome WaitUnlessInterrupted(
    SignalWaiter& signals, const std::function<absl::Status(const concurrency::Canceller&)>& wait) {
  concurrency::Canceller canceller;
  std::atomic<bool> done{false};
  WaitOutcome outcome;
  // The worker inherits the blocked signals: only the main thread takes them.
  std::thread worker([&] {
    outcome.status = wait(canceller);
    done = true;
    signals.Wake();
  });
  outcome.interrupted = signals.WaitForSignalOr([&] { return done.load(); });
  if (outcome.interrupted) canceller.Cancel();
  worker.join();
  return outcome;
}

absl::Status PrintGetResponse(const CommandEnv& env, const GetResult& result) {
  switch (env.format()) {
    case OutputFormat::kSimple:
      env.Print(SimpleGet(result, env.simple_options()));
      break;
    case OutputFormat::kJson:
      env.Print(JsonGet(result));
      break;
    case OutputFormat::kFields:
      env.Print(FieldsGet(result));
      break;
    case OutputFormat::kProtobuf:
      env.Print(ProtobufGet(result));
      break;
    default:
      return FormatNotSupported(env.format());
  }
  env.Flush();
  return absl::OkStatus();
}

}  // namespace etcdgrpc::cli
