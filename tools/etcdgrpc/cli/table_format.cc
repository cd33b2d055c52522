#include "cli/table_format.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "cli/simple_format.h"

namespace etcdgrpc::cli {
namespace {

// tablewriter's Title(): '_' becomes a space, then upper case.
std::string Title(const std::string& name) {
  std::string title = name;
  std::replace(title.begin(), title.end(), '_', ' ');
  return absl::AsciiStrToUpper(absl::StripAsciiWhitespace(title));
}

std::string Center(const std::string& text, size_t width) {
  if (text.size() >= width) return text;
  const size_t gap = width - text.size();
  const size_t left = gap / 2;
  return std::string(left, ' ') + text + std::string(gap - left, ' ');
}

std::string AlignRight(const std::string& text, size_t width) {
  if (text.size() >= width) return text;
  return std::string(width - text.size(), ' ') + text;
}

}  // namespace

std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::string> titles;
  titles.reserve(header.size());
  for (const std::string& name : header) titles.push_back(Title(name));
  std::vector<size_t> widths;
  widths.reserve(titles.size());
  for (const std::string& title : titles) widths.push_back(title.size());
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string line = "+";
  for (size_t width : widths) line += std::string(width + 2, '-') + "+";
  line += "\n";

  std::string out = line + "|";
  for (size_t i = 0; i < titles.size(); ++i) out += " " + Center(titles[i], widths[i]) + " |";
  out += "\n" + line;
  for (const auto& row : rows) {
    out += "|";
    for (size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      out += " " + AlignRight(cell, widths[i]) + " |";
    }
    out += "\n";
  }
  out += line;
  return out;
}

std::string TableEndpointStatus(const std::vector<EndpointStatus>& statuses) {
  static const std::vector<std::string> kHeader = {"endpoint",  "ID",         "version",
                                                   "db size",   "is leader",  "is learner",
                                                   "raft term", "raft index", "raft applied index",
                                                   "errors"};
  std::vector<std::vector<std::string>> rows;
  rows.reserve(statuses.size());
  for (const EndpointStatus& status : statuses) rows.push_back(EndpointStatusColumns(status));
  return RenderTable(kHeader, rows);
}

// --- Cluster and maintenance commands -----------------------------------------

std::string TableEndpointHealth(const std::vector<EndpointHealth>& list) {
  std::vector<std::vector<std::string>> rows;
  for (const EndpointHealth& health : list) {
    rows.push_back({health.endpoint, health.health ? "true" : "false", health.took, health.error});
  }
  return RenderTable({"endpoint", "health", "took", "error"}, rows);
}

std::string TableEndpointHashKV(const std::vector<EndpointHashKV>& list) {
  std::vector<std::vector<std::string>> rows;
  for (const EndpointHashKV& entry : list) {
    rows.push_back({entry.endpoint, std::to_string(entry.hash.hash)});
  }
  return RenderTable({"endpoint", "hash"}, rows);
}

std::string TableSnapshotStatus(const SnapshotFileStatus& status) {
  return RenderTable({"hash", "revision", "total keys", "total size"},
                     {SnapshotStatusColumns(status)});
}

}  // namespace etcdgrpc::cli
