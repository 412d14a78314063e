// Command nginxbench measures a large streamed upload through the rendered
// edge NGINX (TLS 1.3 with a client certificate, production timeouts and
// buffering settings) and, in the same run, straight to the same upstream
// over plain HTTP on loopback, and prints both throughputs, their ratio and
// NGINX's peak RSS. It is a benchmark, not a test: it fails only if a
// transfer does not arrive whole. Run it through scripts/bench-nginx.sh.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/components/edge/nginxconf"
	"github.com/anka-ha/anka-build-cloud-aws/components/edge/nginxconf/internal/nginxtest"
	"github.com/anka-ha/anka-build-cloud-aws/internal/realtool"
)

func main() {
	size := flag.Int64("bytes", 4*nginxtest.GiB, "upload size in bytes")
	bufKiB := flag.Int("client-body-buffer-kib", 0, "anka:edge.nginx.clientBodyBufferKiB (0: default)")
	flag.Parse()
	if err := run(*size, *bufKiB); err != nil {
		fmt.Fprintln(os.Stderr, "nginxbench:", err)
		os.Exit(1)
	}
}

func run(size int64, bufKiB int) error {
	bin, err := realtool.NGINX.Find()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "nginxbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	h, err := nginxtest.Start(nginxtest.Options{Bin: bin, Dir: dir, Modify: func(s *nginxconf.Settings) {
		s.AccessLog = "off"
		s.ErrorLogLevel = "warn"
		s.ClientBodyBufferKiB = bufKiB
	}})
	if err != nil {
		return err
	}
	defer h.Close()

	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("machine: %d CPUs, load average %s", runtime.NumCPU(), load)
	fmt.Printf("nginx:   %s, worker_processes %s, client_body_buffer_size %dk, run as uid %d\n",
		nginxtest.Version(bin), h.Settings.WorkerProcesses, h.Settings.ClientBodyBufferKiB, runUID())
	fmt.Printf("payload: %d bytes (%.2f GiB) from AES-CTR keystream, streamed, sha256 checked at the upstream\n",
		size, float64(size)/float64(nginxtest.GiB))
	ctx := context.Background()

	// Through NGINX: TLS 1.3 + client certificate, to the Registry host.
	body := nginxtest.NewBody(1, size)
	sampler := h.NGINX.Sample(50*time.Millisecond, h.TempDirs())
	cpu0, err := h.NGINX.CPUTime()
	if err != nil {
		return err
	}
	via := nginxtest.Send(ctx, h.Client(&h.PKI.Valid), http.MethodPut,
		h.URL(nginxtest.RegistryHost, "/bench"), body, size, "bench-nginx", nil)
	mem := sampler.Stop()
	cpu1, err := h.NGINX.CPUTime()
	if err != nil {
		return err
	}
	if err := check("through nginx", via, size, body.SHA256()); err != nil {
		return fmt.Errorf("%w\n%s", err, h.NGINX.ErrorLog())
	}
	if len(mem.TempFiles) > 0 {
		return fmt.Errorf("nginx wrote temp files: %v", mem.TempFiles)
	}

	// Direct: plain HTTP over loopback to the same upstream, no TLS.
	body = nginxtest.NewBody(1, size)
	direct := nginxtest.Send(ctx, nginxtest.DirectClient(), http.MethodPut,
		"http://"+h.Registry.Addr+"/bench", body, size, "bench-direct", nil)
	if err := check("direct", direct, size, body.SHA256()); err != nil {
		return err
	}

	viaMiBps := nginxtest.MiBps(size, via.Elapsed)
	directMiBps := nginxtest.MiBps(size, direct.Elapsed)
	fmt.Printf("through nginx (TLS 1.3 + mTLS, client -> nginx -> upstream): %8.1f MiB/s  (%.1f s)\n", viaMiBps, via.Elapsed.Seconds())
	fmt.Printf("direct (plain HTTP over loopback, client -> upstream):        %8.1f MiB/s  (%.1f s)\n", directMiBps, direct.Elapsed.Seconds())
	fmt.Printf("ratio nginx/direct: %.2f\n", viaMiBps/directMiBps)
	gib := float64(size) / float64(nginxtest.GiB)
	fmt.Printf("nginx CPU: %.1f s for the transfer, %.2f CPU-s per GiB (TLS decrypt + proxy), i.e. at most %.0f MiB/s per core\n",
		(cpu1 - cpu0).Seconds(), (cpu1-cpu0).Seconds()/gib, 1024*gib/(cpu1-cpu0).Seconds())
	fmt.Printf("nginx RSS: baseline %.1f MiB (master+%d workers), peak %.1f MiB total, peak single worker %.1f MiB, %d samples, temp files: %d\n",
		mib(mem.Baseline.Total()), mem.Baseline.Workers, mib(mem.Peak.Total()), mib(mem.PeakWorker), mem.Samples, len(mem.TempFiles))
	return nil
}

func check(what string, r nginxtest.Result, size int64, sum string) error {
	switch {
	case r.Err != nil:
		return fmt.Errorf("%s: %w", what, r.Err)
	case r.Status != http.StatusOK:
		return fmt.Errorf("%s: HTTP %d: %s", what, r.Status, r.Body)
	case r.Reply.Bytes != size || r.Reply.SHA256 != sum:
		return fmt.Errorf("%s: upstream got %d bytes sha256 %s, sent %d bytes sha256 %s", what, r.Reply.Bytes, r.Reply.SHA256, size, sum)
	}
	return nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func runUID() int {
	if os.Geteuid() == 0 {
		return nginxtest.UnprivilegedUID
	}
	return os.Geteuid()
}
