// A command's printers, one per output format, and the one place that picks
// the one -w asks for: a format without a printer is etcdctl's "<format> not
// supported as output format" (exit code 4). Commands list their printers
// (simple_format.h, json_format.h, table_format.h, fields_format.h,
// protobuf_format.h), so a new format for a command is one more entry.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "cli/command.h"

namespace etcdgrpc::cli {

template <typename T>
struct Printers {
  using Printer = std::function<std::string(const T&)>;
  Printer simple;
  Printer json;
  Printer table;
  Printer fields;
  Printer protobuf;

  [[nodiscard]] const Printer& For(OutputFormat format) const {
    switch (format) {
      case OutputFormat::kSimple:
        return simple;
      case OutputFormat::kJson:
        return json;
      case OutputFormat::kTable:
        return table;
      case OutputFormat::kFields:
        return fields;
      case OutputFormat::kProtobuf:
        return protobuf;
    }
    return simple;
  }
  // OK when -w has a printer here (checked before a request, so that a
  // refused format changes nothing).
  [[nodiscard]] absl::Status Check(OutputFormat format) const {
    return For(format) ? absl::OkStatus() : FormatNotSupported(format);
  }
  [[nodiscard]] absl::Status Print(const CommandEnv& env, const T& result) const {
    const Printer& printer = For(env.format());
    if (!printer) return FormatNotSupported(env.format());
    env.Print(printer(result));
    return absl::OkStatus();
  }
};

}  // namespace etcdgrpc::cli
