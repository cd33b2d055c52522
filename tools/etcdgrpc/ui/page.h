// The `ui` command's one page: HTML, CSS and a little JavaScript, embedded in
// the binary (no framework, no external assets).
#pragma once

#include <string_view>

namespace etcdgrpc::cli::ui {

// The page at "/". It reads /events (server-sent events: "state" first, then
// "service", "change" and "status") and renders with textContent only, since
// every name, address and metadata value comes from etcd.
[[nodiscard]] std::string_view RegistryPage();

}  // namespace etcdgrpc::cli::ui
