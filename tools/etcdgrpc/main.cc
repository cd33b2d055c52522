// etcdgrpc: etcdctl-compatible command line client for etcd v3.
#include <cstdio>
#include <iostream>

#include "cli/app.h"

int main(int argc, char** argv) {
  return etcdgrpc::cli::RunCli(argc, argv, std::cin, stdout, stderr);
}
