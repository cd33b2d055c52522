// Reads Prometheus text exposition with a real parser (Debian's python3-prometheus-client,
// through /usr/bin/python3), for the metrics tests: every line must parse.
#ifndef ETCDGRPC_TESTS_SUPPORT_PROMETHEUS_TEXT_H_
#define ETCDGRPC_TESTS_SUPPORT_PROMETHEUS_TEXT_H_

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>

#include "absl/status/statusor.h"

namespace etcdgrpc::testing {

// Every sample as `name{label="value",...}` (labels sorted by name, values as the parser
// unescaped them) -> its value; an error with the parser's message when any line fails.
inline absl::StatusOr<std::map<std::string, double>> ParsePrometheusText(const std::string& text) {
  char path[] = "/tmp/etcdgrpc-prometheus-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return absl::InternalError("mkstemp failed");
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  if (!written) return absl::InternalError("cannot write the text to parse");
  // Label values are printed with repr() of each character escaped to one line.
  const std::string command =
      std::string(
          "/usr/bin/python3 -c '\n"
          "import sys\n"
          "from prometheus_client.parser import "
          "text_string_to_metric_families as parse\n"
          "try:\n"
          "  for family in parse(open(sys.argv[1]).read()):\n"
          "    for s in family.samples:\n"
          "      labels = \",\".join(k + \"=\" + repr(v)[1:-1] for k, v in "
          "sorted(s.labels.items()))\n"
          "      print(\"OK\", s.name + \"{\" + labels + \"}\", repr(s.value))\n"
          "except Exception as e:\n"
          "  print(\"ERROR\", repr(e))\n"
          "' ") +
      path + " 2>&1";
  std::string out;
  if (FILE* pipe = popen(command.c_str(), "r"); pipe != nullptr) {
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
    pclose(pipe);
  }
  unlink(path);
  std::map<std::string, double> samples;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.starts_with("OK ")) return absl::InvalidArgumentError("prometheus parser: " + out);
    const size_t space = line.rfind(' ');
    samples[line.substr(3, space - 3)] = std::strtod(line.c_str() + space + 1, nullptr);
  }
  return samples;
}

}  // namespace etcdgrpc::testing

#endif  // ETCDGRPC_TESTS_SUPPORT_PROMETHEUS_TEXT_H_
