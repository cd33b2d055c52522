// etcdgrpc-gointerop: the Go side of the interop tests (tests/interop): real
// etcd 3.4 naming code and grpc-go from Debian, driven by the C++ tests.
//
//	register -endpoints E -service S -addr A [-metadata JSON]
//	    endpoints.NewManager(c, S).AddEndpoint(ctx, S+"/"+A, Endpoint{Addr: A, Metadata: …})
//	call -endpoints E -service S -calls N
//	    grpc.Dial("etcd:///S") with etcd's resolver and round_robin, N calls of
//	    grpc.health.v1.Health/Check; prints "ok N" when all succeeded.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/clientv3/naming/endpoints"
	"go.etcd.io/etcd/clientv3/naming/resolver"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func connect(list string) *clientv3.Client {
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   strings.Split(list, ","),
		DialTimeout: 5 * time.Second,
	})
	if err != nil {
		fail("etcd client: %v", err)
	}
	return c
}

func register(args []string) {
	fs := flag.NewFlagSet("register", flag.ExitOnError)
	etcd := fs.String("endpoints", "", "etcd endpoints, comma-separated")
	service := fs.String("service", "", "the target (service name)")
	addr := fs.String("addr", "", "the address to register")
	metadata := fs.String("metadata", "", "JSON for Endpoint.Metadata (empty: nil)")
	fs.Parse(args)
	c := connect(*etcd)
	defer c.Close()
	em, err := endpoints.NewManager(c, *service)
	if err != nil {
		fail("endpoints manager: %v", err)
	}
	ep := endpoints.Endpoint{Addr: *addr}
	if *metadata != "" {
		if err := json.Unmarshal([]byte(*metadata), &ep.Metadata); err != nil {
			fail("metadata: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := em.AddEndpoint(ctx, *service+"/"+*addr, ep); err != nil {
		fail("AddEndpoint: %v", err)
	}
	fmt.Println("registered")
}

func call(args []string) {
	fs := flag.NewFlagSet("call", flag.ExitOnError)
	etcd := fs.String("endpoints", "", "etcd endpoints, comma-separated")
	service := fs.String("service", "", "the target (service name)")
	calls := fs.Int("calls", 30, "how many calls")
	fs.Parse(args)
	c := connect(*etcd)
	defer c.Close()
	builder, err := resolver.NewBuilder(c)
	if err != nil {
		fail("resolver: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, "etcd:///"+*service, grpc.WithResolvers(builder),
		grpc.WithInsecure(),
		grpc.WithDefaultServiceConfig(`{"loadBalancingPolicy":"round_robin"}`))
	if err != nil {
		fail("dial: %v", err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	for i := 0; i < *calls; i++ {
		callCtx, callCancel := context.WithTimeout(ctx, 5*time.Second)
		resp, err := client.Check(callCtx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
		callCancel()
		if err != nil {
			fail("call %d: %v", i, err)
		}
		if resp.Status != healthpb.HealthCheckResponse_SERVING {
			fail("call %d: status %v", i, resp.Status)
		}
	}
	fmt.Printf("ok %d\n", *calls)
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: etcdgrpc-gointerop register|call [flags]")
	}
	switch os.Args[1] {
	case "register":
		register(os.Args[2:])
	case "call":
		call(os.Args[2:])
	default:
		fail("unknown command %q", os.Args[1])
	}
}
