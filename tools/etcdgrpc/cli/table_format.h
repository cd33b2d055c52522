// etcdctl's -w table output (olekukonko/tablewriter as etcdctl configures it):
// upper-case centred headers, right-aligned cells, +---+ borders.
#pragma once

#include <string>
#include <vector>

#include "cli/simple_format.h"
#include "cli/snapshot_file_status.h"
#include "etcdgrpc/maintenance.h"

namespace etcdgrpc::cli {

// Renders a table; cells are not wrapped (tablewriter wraps cells over 30
// characters at spaces, which these tables do not have in practice).
[[nodiscard]] std::string RenderTable(const std::vector<std::string>& header,
                                      const std::vector<std::vector<std::string>>& rows);

[[nodiscard]] std::string TableEndpointStatus(const std::vector<EndpointStatus>& statuses);

// --- Cluster and maintenance commands -----------------------------------------
[[nodiscard]] std::string TableEndpointHealth(const std::vector<EndpointHealth>& list);
[[nodiscard]] std::string TableEndpointHashKV(const std::vector<EndpointHashKV>& list);
[[nodiscard]] std::string TableSnapshotStatus(const SnapshotFileStatus& status);

}  // namespace etcdgrpc::cli
