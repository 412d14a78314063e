// Command standin is what the real-pod tests run in place of the Anka
// Controller and Registry images (which cannot be pulled here), and the pod
// sandbox ("pause") image of the local kubelets. scripts/realimages.sh builds
// it statically and puts it into images.
//
// As the Controller or Registry it reads the environment the stack gives
// those containers and answers on the same ports and probe paths:
//
//   - ANKA_LISTEN_ADDR (":8080" Controller, ":8089" Registry; whatever it
//     says, so a port the stack moves is the port the pod answers on): /livez,
//     /readyz, /api/v1/status, and any other path answered with a JSON echo
//     of the request (method, path, host and headers, so a test sees the
//     edge's identity headers);
//   - ANKA_METRICS_PORT with ANKA_ENABLE_METRICS=true: /metrics;
//   - ANKA_USE_ETCD_TLS=true with ANKA_ETCD_CA_CERT, ANKA_ETCD_CERT,
//     ANKA_ETCD_CERT_KEY and ANKA_ETCD_ENDPOINTS (the Controller): /readyz
//     is ready only once etcd's /health answers over mutual TLS with those
//     files, so an unreadable Secret or an unreachable etcd shows as an
//     unready pod, as it would with the real Controller;
//   - ANKA_BASE_PATH (the Registry): /readyz is ready only while a file can
//     be written there, as the real Registry writes its templates there.
//
// What it leaves unproven: the vendor's binaries themselves (their start
// time, memory, their own file writes outside ANKA_BASE_PATH, the user they
// run as).
//
// As "pause" (argv[0] or the first argument) it sleeps until SIGTERM or
// SIGINT, like the pod sandbox image.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/realproc"
)

func main() {
	if filepath.Base(os.Args[0]) == "pause" || (len(os.Args) > 1 && os.Args[1] == "pause") {
		pause()
		return
	}
	if err := serve(); err != nil {
		log.Fatal(err)
	}
}

func pause() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	<-ch
}

// role names what this instance stands in for, from its environment.
func role() string {
	if os.Getenv("ANKA_BASE_PATH") != "" {
		return "registry"
	}
	return "controller"
}

type server struct {
	role  string
	ready atomic.Value // string: "" when ready, else why not
}

func serve() error {
	addr := os.Getenv("ANKA_LISTEN_ADDR")
	if addr == "" {
		return errors.New("ANKA_LISTEN_ADDR is not set (the stack sets it for the Controller and the Registry)")
	}
	s := &server{role: role()}
	s.ready.Store("starting")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go s.check(ctx)

	mux := http.NewServeMux()
	mux.HandleFunc("/livez", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if why := s.ready.Load().(string); why != "" {
			http.Error(w, why, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/api/v1/status", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"status": "OK", "body": map[string]any{"status": "Running", "version": "standin", "role": s.role}})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		headers := map[string]string{}
		keys := make([]string, 0, len(r.Header))
		for k := range r.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			headers[k] = strings.Join(r.Header[k], ", ")
		}
		writeJSON(w, map[string]any{"role": s.role, "method": r.Method, "path": r.URL.Path, "host": r.Host, "headers": headers})
	})
	servers := []*http.Server{{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	if os.Getenv("ANKA_ENABLE_METRICS") == "true" && os.Getenv("ANKA_METRICS_PORT") != "" {
		m := http.NewServeMux()
		m.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintf(w, "anka_standin_up{role=%q} 1\n", s.role) })
		servers = append(servers, &http.Server{Addr: ":" + os.Getenv("ANKA_METRICS_PORT"), Handler: m, ReadHeaderTimeout: 10 * time.Second})
	}
	errs := make(chan error, len(servers))
	for _, srv := range servers {
		log.Printf("standin %s listening on %s", s.role, srv.Addr)
		go func() { errs <- srv.ListenAndServe() }()
	}
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
	}
	log.Printf("standin %s: stopping", s.role)
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, srv := range servers {
		_ = srv.Shutdown(sctx)
	}
	return nil
}

// check keeps the readiness state: every 2 s the dependency this role has
// (etcd over TLS for the Controller, a writable base path for the Registry).
func (s *server) check(ctx context.Context) {
	for {
		why := ""
		var err error
		if s.role == "registry" {
			err = writable(os.Getenv("ANKA_BASE_PATH"))
		} else if os.Getenv("ANKA_USE_ETCD_TLS") == "true" {
			err = etcdHealthy(ctx)
		}
		if err != nil {
			why = err.Error()
		}
		if why != s.ready.Load().(string) {
			log.Printf("standin %s: ready=%t %s", s.role, why == "", why)
		}
		s.ready.Store(why)
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

func writable(dir string) error {
	f := filepath.Join(dir, ".standin-"+os.Getenv("HOSTNAME"))
	if err := os.WriteFile(f, []byte(time.Now().UTC().Format(time.RFC3339)), 0o644); err != nil {
		return fmt.Errorf("registry storage %s: %w", dir, err)
	}
	return nil
}

// etcdHealthy reads the client certificate files the way the Controller
// does (at every attempt: they may appear late) and asks each endpoint's
// /health until one answers healthy.
func etcdHealthy(ctx context.Context) error {
	read := func(env string) (string, error) {
		b, err := os.ReadFile(os.Getenv(env))
		return string(b), err
	}
	ca, err := read("ANKA_ETCD_CA_CERT")
	if err != nil {
		return fmt.Errorf("etcd CA: %w", err)
	}
	cert, err := read("ANKA_ETCD_CERT")
	if err != nil {
		return fmt.Errorf("etcd client certificate: %w", err)
	}
	key, err := read("ANKA_ETCD_CERT_KEY")
	if err != nil {
		return fmt.Errorf("etcd client key: %w", err)
	}
	// the name etcd is dialed by, as the Controller verifies it
	cfg, err := realproc.ClientTLS("", ca, cert, key)
	if err != nil {
		return fmt.Errorf("etcd TLS files (%s, %s): %w", os.Getenv("ANKA_ETCD_CA_CERT"), os.Getenv("ANKA_ETCD_CERT"), err)
	}
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	var errs []error
	for _, ep := range strings.Split(os.Getenv("ANKA_ETCD_ENDPOINTS"), ",") {
		if !strings.Contains(ep, "://") {
			ep = "https://" + ep // the Controller's endpoints are host:port; TLS is on here
		}
		// the endpoints the stack configured for the Controller, as the Controller would dial them
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(ep, "/")+"/health", nil) //nolint:gosec // G704: see above
		if err != nil {
			errs = append(errs, err)
			continue
		}
		resp, err := client.Do(req) //nolint:gosec // G704: the stack's own etcd endpoints
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var h struct{ Health string }
		err = json.NewDecoder(resp.Body).Decode(&h)
		resp.Body.Close()
		if err == nil && h.Health == "true" {
			return nil
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s/health: HTTP %d: %w", ep, resp.StatusCode, err))
			continue
		}
		errs = append(errs, fmt.Errorf("%s/health: HTTP %d health=%q", ep, resp.StatusCode, h.Health))
	}
	return fmt.Errorf("etcd: %w", errors.Join(errs...))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
