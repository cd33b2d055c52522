// etcdgrpc-bench-go: the Go peer of etcdgrpc-bench (bench/README.md, "The Go peer"): the same
// workloads as our scenarios through etcd's own Go client (clientv3 from Debian's
// golang-etcd-server-dev), driven block by block by the bench so that its blocks interleave
// with ours and the raw stub's. It measures itself (getrusage, /proc/self/status) and prints
// the bench's one-line format.
//
//	etcdgrpc-bench-go -endpoints E -workload W -prefix P [-leases ID,ID,...]
//
// Commands on stdin, one a line; each is answered with one line on stdout ("error …" when it
// failed):
//
//	prepare N   set up what only a block needs (the watch); "ready"
//	warmup N    N operations, not measured; "done"
//	block N     N operations, measured; "done"
//	finish      tear down what prepare set up; "ok"
//	report NAME the result line of the measured blocks under workload NAME
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/clientv3"
)

const valueBytes = 64

// The measured blocks so far: wall time, CPU of this process, per-operation latencies.
type measurement struct {
	wall      time.Duration
	cpu       time.Duration
	latencies []time.Duration
	ops       int64
	threads   int64 // the most seen at the end of a measured block
}

func processCPU() time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}

// A numeric field of /proc/self/status ("VmRSS:  1234 kB" -> 1234); -1 if absent.
func procStatus(name string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, name+":") {
			continue
		}
		fields := strings.Fields(strings.TrimPrefix(line, name+":"))
		if len(fields) == 0 {
			return -1
		}
		value, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return -1
		}
		return value
	}
	return -1
}

// The same percentile as the bench's Measurement::PercentileUs.
func percentileUs(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return -1
	}
	index := int(p/100*float64(len(sorted)-1) + 0.5)
	if index >= len(sorted) {
		index = len(sorted) - 1
	}
	return float64(sorted[index].Nanoseconds()) / 1000
}

type peer struct {
	client   *clientv3.Client
	workload string
	prefix   string
	leases   []clientv3.LeaseID
	value    string
	nextKey  int64
	watch    clientv3.WatchChan
	cancel   context.CancelFunc
	measured measurement
}

// Runs fn(i) for count operations spread over `workers` goroutines; returns the latencies.
func parallel(workers int, count int64, fn func(worker int) error) ([]time.Duration, error) {
	var remaining = count
	var mu sync.Mutex
	var firstErr error
	latencies := make([]time.Duration, 0, count)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			local := make([]time.Duration, 0, count/int64(workers)+1)
			for atomic.AddInt64(&remaining, -1) >= 0 {
				start := time.Now()
				if err := fn(w); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					break
				}
				local = append(local, time.Since(start))
			}
			mu.Lock()
			latencies = append(latencies, local...)
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	return latencies, firstErr
}

func (p *peer) prepare() error {
	if !strings.HasPrefix(p.workload, "watch_") {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	watch := p.client.Watch(ctx, p.prefix, clientv3.WithPrefix(), clientv3.WithCreatedNotify())
	select {
	case created, ok := <-watch:
		if !ok || !created.Created {
			cancel()
			return errors.New("the watch was not created")
		}
	case <-time.After(10 * time.Second):
		cancel()
		return errors.New("the watch was not created in time")
	}
	p.watch, p.cancel = watch, cancel
	return nil
}

func (p *peer) finish() {
	if p.cancel != nil {
		p.cancel()
		p.cancel, p.watch = nil, nil
	}
}

// Performs count operations of the workload; their latencies.
func (p *peer) run(count int64) ([]time.Duration, error) {
	ctx := context.Background()
	switch p.workload {
	case "put_seq":
		latencies := make([]time.Duration, 0, count)
		for n := int64(0); n < count; n++ {
			start := time.Now()
			key := p.prefix + strconv.FormatInt(p.nextKey, 10)
			p.nextKey++
			if _, err := p.client.Put(ctx, key, p.value); err != nil {
				return nil, err
			}
			latencies = append(latencies, time.Since(start))
		}
		return latencies, nil
	case "keepalive_stream":
		// 64 in flight, round-robin over the leases, as ours.
		var next uint64
		return parallel(64, count, func(int) error {
			id := p.leases[(atomic.AddUint64(&next, 1)-1)%uint64(len(p.leases))]
			_, err := p.client.KeepAliveOnce(ctx, id)
			return err
		})
	case "keepalive_once_concurrent":
		// 16 callers, each on its own lease, as ours.
		return parallel(16, count, func(w int) error {
			_, err := p.client.KeepAliveOnce(ctx, p.leases[w%len(p.leases)])
			return err
		})
	case "watch_batched", "watch_single":
		if p.watch == nil {
			return nil, errors.New("no watch: prepare first")
		}
		latencies := make([]time.Duration, 0, count)
		for seen := int64(0); seen < count; {
			response, ok := <-p.watch
			if !ok {
				return nil, errors.New("the watch ended")
			}
			if err := response.Err(); err != nil {
				return nil, err
			}
			now := time.Now().UnixMicro()
			for _, event := range response.Events {
				if written, err := strconv.ParseInt(string(event.Kv.Value), 10, 64); err == nil && written > 0 {
					latencies = append(latencies, time.Duration(now-written)*time.Microsecond)
				}
			}
			seen += int64(len(response.Events))
		}
		return latencies, nil
	}
	return nil, fmt.Errorf("unknown workload %q", p.workload)
}

func (p *peer) block(count int64, measured bool) error {
	wallStart, cpuStart := time.Now(), processCPU()
	latencies, err := p.run(count)
	if err != nil {
		return err
	}
	if measured {
		p.measured.wall += time.Since(wallStart)
		p.measured.cpu += processCPU() - cpuStart
		p.measured.latencies = append(p.measured.latencies, latencies...)
		p.measured.ops += count
		if threads := procStatus("Threads"); threads > p.measured.threads {
			p.measured.threads = threads
		}
	}
	return nil
}

func (p *peer) report(name string) string {
	m := &p.measured
	sort.Slice(m.latencies, func(i, j int) bool { return m.latencies[i] < m.latencies[j] })
	seconds := m.wall.Seconds()
	opsPerS, cpuPerOp := 0.0, 0.0
	if seconds > 0 {
		opsPerS = float64(m.ops) / seconds
	}
	if m.ops > 0 {
		cpuPerOp = float64(m.cpu.Microseconds()) / float64(m.ops)
	}
	return fmt.Sprintf("peer=go-clientv3 workload=%s ops=%d seconds=%.3f ops_per_s=%.0f "+
		"p50_us=%.1f p99_us=%.1f client_cpu_us_per_op=%.2f rss_mb=%.1f threads=%d go=%s",
		name, m.ops, seconds, opsPerS, percentileUs(m.latencies, 50), percentileUs(m.latencies, 99),
		cpuPerOp, float64(procStatus("VmRSS"))/1024, m.threads, runtime.Version())
}

func (p *peer) handle(line string) string {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return "error empty command"
	}
	count := int64(0)
	if len(fields) > 1 {
		count, _ = strconv.ParseInt(fields[1], 10, 64)
	}
	var err error
	switch fields[0] {
	case "prepare":
		if err = p.prepare(); err == nil {
			return "ready"
		}
	case "warmup", "block":
		if err = p.block(count, fields[0] == "block"); err == nil {
			return "done"
		}
	case "finish":
		p.finish()
		return "ok"
	case "report":
		if len(fields) < 2 {
			return "error report needs a workload name"
		}
		return p.report(fields[1])
	default:
		err = fmt.Errorf("unknown command %q", fields[0])
	}
	return "error " + strings.ReplaceAll(err.Error(), "\n", " ")
}

func main() {
	endpoints := flag.String("endpoints", "", "etcd endpoints, comma-separated")
	workload := flag.String("workload", "", "put_seq, keepalive_stream, keepalive_once_concurrent, watch_batched or watch_single")
	prefix := flag.String("prefix", "", "key prefix (put_seq, watches)")
	leaseList := flag.String("leases", "", "lease ids, comma-separated (keep-alive workloads)")
	flag.Parse()
	p := &peer{workload: *workload, prefix: *prefix, value: strings.Repeat("v", valueBytes)}
	for _, field := range strings.Split(*leaseList, ",") {
		if field == "" {
			continue
		}
		id, err := strconv.ParseInt(field, 10, 64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bad lease id %q\n", field)
			os.Exit(2)
		}
		p.leases = append(p.leases, clientv3.LeaseID(id))
	}
	if strings.HasPrefix(*workload, "keepalive_") && len(p.leases) == 0 {
		fmt.Fprintln(os.Stderr, "the keep-alive workloads need -leases")
		os.Exit(2)
	}
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   strings.Split(*endpoints, ","),
		DialTimeout: 5 * time.Second,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcd client: %v\n", err)
		os.Exit(1)
	}
	defer client.Close()
	p.client = client
	defer p.finish()
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	// Until stdin closes: the bench ends the peer by closing it.
	for in.Scan() {
		fmt.Fprintln(out, p.handle(in.Text()))
		out.Flush()
	}
}
