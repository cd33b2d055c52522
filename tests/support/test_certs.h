// TestCerts: TLS certificates made at test time with the `openssl` command line tool in a
// temp dir (a CA, a server certificate for 127.0.0.1/localhost, a client certificate, and an
// unrelated second CA), for the TLS tests, the TLS benchmark and LocalEtcd's TLS mode.
// Deliberately free of GoogleTest.
#ifndef ETCDGRPC_TESTS_SUPPORT_TEST_CERTS_H_
#define ETCDGRPC_TESTS_SUPPORT_TEST_CERTS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "local_etcd.h"

namespace etcdgrpc::testing {

// All files are PEM; keys are unencrypted EC P-256 (PKCS#8), certificates valid for 2 days.
// The destructor removes the temp dir.
class TestCerts {
 public:
  // Creates the files under "<parent>/etcdgrpc-certs-XXXXXX" (parent: $TMPDIR, else /tmp).
  // Fails with the openssl command and its output if a step fails.
  static absl::StatusOr<std::unique_ptr<TestCerts>> Create(std::string temp_parent = "");

  TestCerts(const TestCerts&) = delete;
  TestCerts& operator=(const TestCerts&) = delete;
  ~TestCerts();

  const std::string& dir() const { return dir_; }
  // The CA that signed the server and client certificates ("etcdgrpc test CA").
  std::string ca_file() const { return dir_ + "/ca.pem"; }
  // CN=localhost, SAN IP:127.0.0.1 and DNS:localhost.
  std::string server_cert_file() const { return dir_ + "/server.pem"; }
  std::string server_key_file() const { return dir_ + "/server.key"; }
  // CN=etcdgrpc-test-client, extended key usage clientAuth.
  std::string client_cert_file() const { return dir_ + "/client.pem"; }
  std::string client_key_file() const { return dir_ + "/client.key"; }
  // An unrelated CA ("etcdgrpc other CA") that signed nothing the server uses.
  std::string other_ca_file() const { return dir_ + "/other-ca.pem"; }
  // A client certificate signed by the other CA (refused by a client-cert-auth etcd).
  std::string other_client_cert_file() const { return dir_ + "/other-client.pem"; }
  std::string other_client_key_file() const { return dir_ + "/other-client.key"; }

  // LocalEtcd serving https with the server certificate; with client_cert_auth, etcd requires
  // a client certificate signed by ca_file() (and the readiness probe presents the client one).
  LocalEtcdTlsOptions ServerTls(bool client_cert_auth = false) const;

 private:
  explicit TestCerts(std::string dir) : dir_(std::move(dir)) {}

  std::string dir_;
};

}  // namespace etcdgrpc::testing

#endif  // ETCDGRPC_TESTS_SUPPORT_TEST_CERTS_H_
