// etcdgrpc-with-etcd -- COMMAND [ARGS...]: runs COMMAND with ETCD_ENDPOINTS
// set to a throwaway single-member etcd on 127.0.0.1 (started here, removed
// with its data directory afterwards), so that the examples need no test
// harness of their own. ./dev demo and the greeter demo test use it when no
// ETCD_ENDPOINTS is given. Exits with COMMAND's status.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "local_etcd.h"

int main(int argc, char** argv) {
  int first = 1;
  if (first < argc && std::strcmp(argv[first], "--") == 0) ++first;
  if (first >= argc) {
    std::fprintf(stderr, "usage: %s -- COMMAND [ARGS...]\n", argv[0]);
    return 2;
  }
  auto etcd = etcdgrpc::testing::LocalEtcd::Start();
  if (!etcd.ok()) {
    std::fprintf(stderr, "cannot start a throwaway etcd: %s\n", etcd.status().ToString().c_str());
    return 1;
  }
  const std::string endpoints = (*etcd)->EndpointsFlag();
  std::printf("started a throwaway etcd at %s\n", endpoints.c_str());
  std::fflush(stdout);
  const pid_t child = fork();
  if (child < 0) {
    std::perror("fork");
    return 1;
  }
  if (child == 0) {
    setenv("ETCD_ENDPOINTS", endpoints.c_str(), 1);
    execvp(argv[first], argv + first);
    std::perror(argv[first]);
    _exit(127);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) {
      std::perror("waitpid");
      return 1;
    }
  }
  etcd->reset();  // stops etcd and removes its data directory
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
