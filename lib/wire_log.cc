#include "etcdgrpc/wire_log.h"

#include <cerrno>
#include <cstdio>
#include <system_error>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

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
  FileWireLog(std::FILE* file, bool owned) : file_(file), owned_(owned) {}
  ~FileWireLog() override {
    if (owned_) std::fclose(file_);
  }
  void Record(const WireLogRecord& record) override {
    std::string line = FormatWireLogRecord(record);
    line.push_back('\n');
    absl::MutexLock lock(&mu_);
    std::fwrite(line.data(), 1, line.size(), file_);
    std::fflush(file_);
  }

 private:
  absl::Mutex mu_;
  std::FILE* const file_ ABSL_PT_GUARDED_BY(mu_);
  const bool owned_;
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

absl::StatusOr<std::shared_ptr<WireLogSink>> OpenWireLogFile(const std::string& path) {
  if (path == "-") return std::make_shared<FileWireLog>(stdout, false);
  std::FILE* file = std::fopen(path.c_str(), "ae");
  if (file == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("cannot open wire log \"", path,
                                                   "\": ", std::generic_category().message(errno)));
  }
  return std::make_shared<FileWireLog>(file, true);
}

}  // namespace etcdgrpc
