#include "etcdgrpc/wire_log.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"

namespace etcdgrpc {
namespace {

std::string_view DirectionName(WireDirection direction) {
  switch (direction) {
    case WireDirection::kSend:
      return "send";
    case WireDirection::kReceive:
      return "recv";
    case WireDirection::kEnd:
      return "end";
  }
  return "?";
}

class FileWireLog : public WireLogSink {
 public:
  FileWireLog(std::FILE* file, bool owned, WireLogFormat format)
      : file_(file), owned_(owned), format_(format) {}
  ~FileWireLog() override {
    if (owned_) std::fclose(file_);
  }
  [[nodiscard]] WireLogFormat format() const override { return format_; }
  void Record(const WireLogRecord& record) override {
    std::string line = format_ == WireLogFormat::kJson ? FormatWireLogJsonLine(record)
                                                       : FormatWireLogRecord(record);
    line.push_back('\n');
    absl::MutexLock lock(&mu_);
    std::fwrite(line.data(), 1, line.size(), file_);
    std::fflush(file_);
  }

 private:
  absl::Mutex mu_;
  std::FILE* const file_ ABSL_PT_GUARDED_BY(mu_);
  const bool owned_;
  const WireLogFormat format_;
};

}  // namespace

std::string FormatWireLogRecord(const WireLogRecord& record) {
  std::string line;
  line.reserve(64 + record.endpoint.size() + record.method.size() + record.text.size());
  line.append(std::to_string(record.time_us)).append(" ");
  line.append(record.endpoint).append(" ").append(record.method);
  line.append(" call=").append(std::to_string(record.call_id)).append(" ");
  line.append(DirectionName(record.direction)).append(" ");
  line.append(std::to_string(record.bytes)).append("B ").append(record.text);
  return line;
}

std::string FormatWireLogJsonLine(const WireLogRecord& record) {
  // The pid tells apart the processes that appended to one file (call ids
  // restart at 1 in each).
  static const int64_t pid = getpid();
  // ordered_json keeps the documented field order, which makes lines readable.
  nlohmann::ordered_json envelope = {{"v", kWireLogJsonVersion},
                                     {"time_us", record.time_us},
                                     {"pid", pid},
                                     {"endpoint", record.endpoint},
                                     {"method", record.method},
                                     {"call", record.call_id},
                                     {"dir", DirectionName(record.direction)},
                                     {"bytes", record.bytes}};
  std::string line = envelope.dump();
  // The text is already JSON (protobuf's mapping, made by the interceptor):
  // spliced in rather than parsed and dumped again.
  line.pop_back();
  line.append(record.direction == WireDirection::kEnd ? ",\"status\":" : ",\"message\":");
  line.append(record.text.empty() ? std::string_view("null") : record.text);
  line.push_back('}');
  return line;
}

absl::StatusOr<std::shared_ptr<WireLogSink>> OpenWireLogFile(const std::string& path,
                                                             WireLogFileOptions options) {
  if (path == "-") return std::make_shared<FileWireLog>(stdout, false, options.format);
  std::FILE* file = std::fopen(path.c_str(), "ae");
  if (file == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("cannot open wire log \"", path,
                                                   "\": ", std::generic_category().message(errno)));
  }
  return std::make_shared<FileWireLog>(file, true, options.format);
}

}  // namespace etcdgrpc
