// TestCerts: runs `openssl` (req, x509) through /bin/sh in a temp dir; removes the dir.
#include "test_certs.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace etcdgrpc::testing {
namespace {

std::string ShellQuote(const std::string& text) {
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "'\\''"}}), "'");
}

// Runs `command` with /bin/sh in `dir`; on failure the error holds the command and its output.
absl::Status Run(const std::string& dir, const std::string& command) {
  const std::string full = absl::StrCat("{ cd ", ShellQuote(dir), " && ", command, "; } 2>&1");
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) {
    return absl::InternalError(absl::StrCat(
        "TestCerts: popen failed: ", std::error_code(errno, std::generic_category()).message()));
  }
  std::string output;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof(buffer), pipe)) > 0;) output.append(buffer, n);
  const int status = pclose(pipe);
  if (status == 0) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat("TestCerts: `", command, "` failed (wait status ", status,
                   WIFEXITED(status) && WEXITSTATUS(status) == 127 ? "; is openssl installed?" : "",
                   "): ", output));
}

absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("TestCerts: cannot write ", path));
  return absl::OkStatus();
}

constexpr const char* kNewEcKey = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

// A self-signed CA certificate and key: <name>.pem, <name>.key.
std::string MakeCa(const std::string& name, const std::string& common_name) {
  return absl::StrCat("openssl req -x509 ", kNewEcKey, " -keyout ", name, ".key -out ", name,
                      ".pem -days 2 -subj '/CN=", common_name,
                      "' -addext basicConstraints=critical,CA:TRUE"
                      " -addext keyUsage=critical,keyCertSign,cRLSign");
}

// A key, a request and a certificate signed by <ca>: <name>.key, <name>.pem.
std::string MakeLeaf(const std::string& name, const std::string& common_name, const std::string& ca,
                     const std::string& ext_file, int serial) {
  return absl::StrCat("openssl req -new ", kNewEcKey, " -keyout ", name, ".key -out ", name,
                      ".csr -subj '/CN=", common_name, "' && openssl x509 -req -in ", name,
                      ".csr -CA ", ca, ".pem -CAkey ", ca, ".key -set_serial ", serial, " -out ",
                      name, ".pem -days 2 -extfile ", ext_file, " && rm ", name, ".csr");
}

}  // namespace

absl::StatusOr<std::unique_ptr<TestCerts>> TestCerts::Create(std::string temp_parent) {
  if (temp_parent.empty()) {
    const char* tmpdir = std::getenv("TMPDIR");
    temp_parent = tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
  }
  std::string pattern = absl::StrCat(temp_parent, "/etcdgrpc-certs-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("TestCerts: mkdtemp(", pattern,
                     ") failed: ", std::error_code(errno, std::generic_category()).message()));
  }
  // From here on the destructor removes the dir.
  std::unique_ptr<TestCerts> certs(new TestCerts(pattern));
  const std::string& dir = certs->dir_;
  if (absl::Status s = WriteFile(dir + "/server.ext",
                                 "basicConstraints=CA:FALSE\n"
                                 "keyUsage=critical,digitalSignature,keyEncipherment\n"
                                 "extendedKeyUsage=serverAuth\n"
                                 "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = WriteFile(dir + "/client.ext",
                                 "basicConstraints=CA:FALSE\n"
                                 "keyUsage=critical,digitalSignature,keyEncipherment\n"
                                 "extendedKeyUsage=clientAuth\n");
      !s.ok()) {
    return s;
  }
  for (const std::string& command : {
           MakeCa("ca", "etcdgrpc test CA"),
           MakeCa("other-ca", "etcdgrpc other CA"),
           MakeLeaf("server", "localhost", "ca", "server.ext", 2),
           MakeLeaf("client", "etcdgrpc-test-client", "ca", "client.ext", 3),
           MakeLeaf("other-client", "etcdgrpc-test-client", "other-ca", "client.ext", 4),
       }) {
    if (absl::Status s = Run(dir, command); !s.ok()) return s;
  }
  return certs;
}

TestCerts::~TestCerts() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

LocalEtcdTlsOptions TestCerts::ServerTls(bool client_cert_auth) const {
  LocalEtcdTlsOptions tls;
  tls.cert_file = server_cert_file();
  tls.key_file = server_key_file();
  tls.ca_file = ca_file();
  tls.client_cert_auth = client_cert_auth;
  if (client_cert_auth) {
    tls.probe_cert_file = client_cert_file();
    tls.probe_key_file = client_key_file();
  }
  return tls;
}

}  // namespace etcdgrpc::testing
