// `etcdgrpc ui` on a real etcd: its JSON and server-sent events endpoints
// (httplib's client), a taken port, a page opened while etcd is unreachable,
// the event hub dropping a browser that falls behind, and the page itself in
// headless Chromium through Selenium (ui_page_browser.py): services listed,
// changes live without a reload, stale and kept while etcd is stopped.
#include <httplib.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "etcdgrpc/registry/registrar.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "local_etcd.h"
#include "nlohmann/json.hpp"
#include "registry_process.h"
#include "test_client.h"
#include "ui/sse_hub.h"

namespace etcdgrpc::testing {
namespace {

using ::etcdgrpc::registry::testing::ChildProcess;
using Json = nlohmann::json;

constexpr char kUrlLine[] = "serving the registry page on http://127.0.0.1:";

// A throwaway etcd, a client and a registrar on it, and `etcdgrpc ui` following it.
class UiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<LocalEtcd>> etcd = LocalEtcd::Start();
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    etcd_ = *std::move(etcd);
    client_ = ConnectTo(etcd_->ClientEndpoints(), {.stream_backoff = kFastStreamBackoff});
    ASSERT_NE(client_, nullptr);
    registrar_ = std::make_unique<registry::Registrar>(*client_);
    Register("alpha", "a1", "127.0.0.1:7001", {{"zone", "eu-1"}});
  }
  void TearDown() override {
    if (ui_ != nullptr) {
      ui_->Signal(SIGTERM);
      // TerminateBy: it dies of the signal after shutting down cleanly.
      EXPECT_EQ(ui_->Wait(absl::Seconds(15)), 128 + SIGTERM) << ui_->err();
    }
    registrations_.clear();
    registrar_.reset();
    client_.reset();
  }

  void Register(const std::string& service, const std::string& id, const std::string& address,
                std::map<std::string, std::string> metadata = {}) {
    absl::StatusOr<registry::Registration> registration = registrar_->Register(
        {.service = service, .id = id, .address = address, .metadata = std::move(metadata)});
    ASSERT_TRUE(registration.ok()) << registration.status();
    registrations_.emplace(service + "/" + id, *std::move(registration));
  }
  void Deregister(const std::string& service, const std::string& id) {
    auto it = registrations_.find(service + "/" + id);
    ASSERT_NE(it, registrations_.end());
    EXPECT_TRUE(it->second.Deregister().ok());
    registrations_.erase(it);
  }

  // Starts the ui on a free port; its port.
  int StartUi(const std::string& endpoints, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {ETCDGRPC_CLI, "--endpoints=" + endpoints};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.insert(argv.end(), {"ui", "--listen", "127.0.0.1:0"});
    ui_ = std::make_unique<ChildProcess>(argv);
    std::optional<std::string> line = ui_->ReadLine(absl::Seconds(15));
    if (!line.has_value() || !absl::StartsWith(*line, kUrlLine)) {
      ADD_FAILURE() << "no URL from the ui: " << line.value_or("(none)") << "\n" << ui_->err();
      return 0;
    }
    int port = 0;
    EXPECT_TRUE(
        absl::SimpleAtoi(absl::StripSuffix(line->substr(sizeof(kUrlLine) - 1), "/"), &port));
    return port;
  }

  static std::optional<Json> GetState(int port) {
    httplib::Client http("127.0.0.1", port);
    httplib::Result got = http.Get("/api/state");
    if (!got || got->status != 200) return std::nullopt;
    return Json::parse(got->body, nullptr, /*allow_exceptions=*/false);
  }

  std::unique_ptr<LocalEtcd> etcd_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<registry::Registrar> registrar_;
  std::map<std::string, registry::Registration> registrations_;
  std::unique_ptr<ChildProcess> ui_;
};

const Json* FindService(const Json& services, const std::string& name) {
  for (const Json& service : services) {
    if (service["service"] == name) return &service;
  }
  return nullptr;
}

TEST_F(UiTest, StateAndEventsFollowTheRegistry) {
  const int port = StartUi(etcd_->EndpointsFlag());
  ASSERT_GT(port, 0);

  // The state: the service as registered, live once the first status is sampled.
  std::optional<Json> state;
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (absl::Now() < deadline) {
    state = GetState(port);
    if (state && state->contains("status") && (*state)["status"].value("stale", true) == false &&
        (*state)["status"]["leases"].size() == 1) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(state.has_value());
  ASSERT_EQ((*state)["status"].value("stale", true), false) << state->dump();
  EXPECT_EQ((*state)["codec"], "native");
  EXPECT_EQ((*state)["prefix"], "/services");
  const Json* alpha = FindService((*state)["services"], "alpha");
  ASSERT_NE(alpha, nullptr) << state->dump();
  ASSERT_EQ((*alpha)["instances"].size(), 1u);
  const Json& a1 = (*alpha)["instances"][0];
  EXPECT_EQ(a1["id"], "a1");
  EXPECT_EQ(a1["address"], "127.0.0.1:7001");
  EXPECT_EQ(a1["metadata"]["zone"], "eu-1");
  const std::string lease = a1["lease"];
  ASSERT_EQ(lease.size(), 16u);  // etcdctl's %016x
  const Json& ttl = (*state)["status"]["leases"][lease];
  EXPECT_GT(ttl["ttl"].get<int>(), 0);
  EXPECT_EQ(ttl["granted_ttl"].get<int64_t>(),
            absl::ToInt64Seconds(registrations_.at("alpha/a1").ttl()));
  EXPECT_EQ((*state)["status"]["client"]["watch"]["state"], "open");

  // The events: the whole state first, then a registration made meanwhile, as the service's
  // new set and as a timeline change carrying the record's revision.
  httplib::Client http("127.0.0.1", port);
  http.set_read_timeout(20, 0);
  std::string stream;
  bool registered = false;
  bool saw_service = false;
  std::optional<Json> change;
  const absl::Time events_deadline = absl::Now() + absl::Seconds(20);
  (void)http.Get("/events", [&](const char* data, size_t size) {
    stream.append(data, size);
    size_t end;
    while ((end = stream.find("\n\n")) != std::string::npos) {
      const std::string frame = stream.substr(0, end);
      stream.erase(0, end + 2);
      if (absl::StartsWith(frame, ":")) continue;  // a ping
      const std::vector<std::string> lines = absl::StrSplit(frame, '\n');
      if (lines.size() != 2 || !absl::StartsWith(lines[0], "event: ") ||
          !absl::StartsWith(lines[1], "data: ")) {
        ADD_FAILURE() << "not an SSE frame: " << frame;
        return false;
      }
      const std::string event = lines[0].substr(7);
      const Json json = Json::parse(lines[1].substr(6), nullptr, false);
      EXPECT_FALSE(json.is_discarded()) << lines[1];
      if (event == "state") {
        EXPECT_FALSE(registered) << "a second state frame";
        EXPECT_NE(FindService(json["services"], "alpha"), nullptr);
        Register("gamma", "g1", "127.0.0.1:7003");
        registered = true;
      } else if (event == "service" && json["service"] == "gamma") {
        EXPECT_EQ(json["instances"].size(), 1u);
        saw_service = true;
      } else if (event == "change" && json["service"] == "gamma") {
        change = json;
      }
    }
    return !(saw_service && change.has_value()) && absl::Now() < events_deadline;
  });
  ASSERT_TRUE(registered);
  EXPECT_TRUE(saw_service);
  ASSERT_TRUE(change.has_value());
  EXPECT_EQ((*change)["kind"], "added");
  EXPECT_EQ((*change)["id"], "g1");
  absl::StatusOr<GetResult> record = client_->Range(KeyRange::Key("/services/gamma/g1"));
  ASSERT_TRUE(record.ok() && record->kvs.size() == 1) << record.status();
  EXPECT_EQ((*change)["revision"], record->kvs[0].mod_revision);

  // The page itself: one document, no external assets.
  httplib::Result page = http.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->get_header_value("Content-Type"), ::testing::HasSubstr("text/html"));
  EXPECT_THAT(page->body, ::testing::HasSubstr("new EventSource(\"events\")"));
  EXPECT_THAT(page->body, ::testing::Not(::testing::HasSubstr("http://")));
  EXPECT_THAT(page->body, ::testing::Not(::testing::HasSubstr("https://")));
}

TEST_F(UiTest, PageOpenedWithEtcdUnreachableSaysStale) {
  // Nothing listens on the port of a socket we bound and never listened on.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const int port =
      StartUi(absl::StrCat("127.0.0.1:", ntohs(address.sin_port)), {"--command-timeout=1s"});
  ASSERT_GT(port, 0);
  std::optional<Json> state;
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (absl::Now() < deadline) {
    state = GetState(port);
    if (state && (*state)["status"].contains("stale")) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  close(fd);
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ((*state)["status"]["stale"], true) << state->dump();
  EXPECT_THAT((*state)["status"]["reason"].get<std::string>(),
              ::testing::HasSubstr("listing failed"));
  EXPECT_TRUE((*state)["services"].empty());
  httplib::Client http("127.0.0.1", port);
  httplib::Result page = http.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
}

TEST_F(UiTest, TakenPortIsAClearError) {
  const int port = StartUi(etcd_->EndpointsFlag());
  ASSERT_GT(port, 0);
  const registry::testing::ProgramResult second =
      registry::testing::RunProgram({ETCDGRPC_CLI, "--endpoints=" + etcd_->EndpointsFlag(), "ui",
                                     "--listen", absl::StrCat("127.0.0.1:", port)});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_THAT(second.err, ::testing::HasSubstr(absl::StrCat("cannot listen on 127.0.0.1:", port,
                                                            ": Address already in use")));
  // The first one goes on serving.
  EXPECT_TRUE(GetState(port).has_value());
}

TEST_F(UiTest, BrowserSeesChangesLiveAndTheLastStateWhileEtcdIsDown) {
  const int port = StartUi(etcd_->EndpointsFlag());
  ASSERT_GT(port, 0);
  char dir_template[] = "/tmp/etcdgrpc-ui-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::filesystem::path control = dir_template;
  struct RemoveDir {
    std::filesystem::path dir;
    ~RemoveDir() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  } remove_dir{control};
  std::vector<std::string> argv = {"/usr/bin/python3",
                                   ETCDGRPC_UI_BROWSER_SCRIPT,
                                   "--url",
                                   absl::StrCat("http://127.0.0.1:", port, "/"),
                                   "--control-dir",
                                   control.string()};
  // Set to write the README's screenshot (docs/ui.md says how).
  if (const char* screenshot = getenv("ETCDGRPC_UI_SCREENSHOT"); screenshot != nullptr) {
    argv.insert(argv.end(), {"--screenshot", screenshot});
  }
  ChildProcess browser(argv);
  bool passed = false;
  const absl::Time deadline = absl::Now() + absl::Seconds(150);
  while (!passed && absl::Now() < deadline) {
    std::optional<std::string> line = browser.ReadLine(absl::Seconds(60));
    if (!line.has_value()) break;
    if (*line == "PASS") {
      passed = true;
      break;
    }
    const std::vector<std::string> words = absl::StrSplit(*line, ' ');
    if (words.size() < 3 || words[0] != "DO") continue;
    const std::string& action = words[2];
    if (action == "REGISTER" && words.size() == 6) {
      Register(words[3], words[4], words[5]);
    } else if (action == "DEREGISTER" && words.size() == 5) {
      Deregister(words[3], words[4]);
    } else if (action == "STOP_ETCD") {
      ASSERT_TRUE(etcd_->Stop(0).ok());
    } else if (action == "START_ETCD") {
      ASSERT_TRUE(etcd_->Restart(0).ok());
    } else {
      ADD_FAILURE() << "unknown request from the browser script: " << *line;
      break;
    }
    std::ofstream(control / absl::StrCat("done-", words[1])).put('\n');
  }
  const std::optional<int> code = browser.Wait(absl::Seconds(30));
  EXPECT_TRUE(passed) << "stdout:\n" << browser.out() << "\nstderr:\n" << browser.err();
  EXPECT_EQ(code, 0) << browser.err();
}

// The hub never blocks its publisher: a subscriber that stops reading is dropped once its
// queue is full, and the others get every frame.
TEST(UiSseHubTest, DropsASubscriberThatFallsBehind) {
  cli::ui::SseHub hub({.max_queued = 4, .max_clients = 2});
  std::shared_ptr<cli::ui::SseSubscriber> slow = hub.Join("first");
  std::shared_ptr<cli::ui::SseSubscriber> reader = hub.Join("first");
  ASSERT_NE(slow, nullptr);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(hub.Join("first"), nullptr);  // max_clients
  std::string frame;
  ASSERT_EQ(reader->Pop(absl::ZeroDuration(), &frame), cli::ui::SseSubscriber::Next::kFrame);
  for (int i = 0; i < 10; ++i) {
    hub.Publish(absl::StrCat("frame ", i));
    ASSERT_EQ(reader->Pop(absl::ZeroDuration(), &frame), cli::ui::SseSubscriber::Next::kFrame);
    EXPECT_EQ(frame, absl::StrCat("frame ", i));
  }
  EXPECT_EQ(slow->Pop(absl::ZeroDuration(), &frame), cli::ui::SseSubscriber::Next::kEnded);
  EXPECT_EQ(hub.dropped(), 1u);
  EXPECT_EQ(hub.subscribers(), 1u);
  EXPECT_EQ(reader->Pop(absl::ZeroDuration(), &frame), cli::ui::SseSubscriber::Next::kIdle);
  hub.Close();
  EXPECT_EQ(reader->Pop(absl::ZeroDuration(), &frame), cli::ui::SseSubscriber::Next::kEnded);
  EXPECT_EQ(hub.Join("first"), nullptr);
}

}  // namespace
}  // namespace etcdgrpc::testing
