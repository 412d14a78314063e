package nginxtest

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/components/edge/nginxconf"
	"github.com/anka-ha/anka-build-cloud-aws/internal/realproc"
)

// Host names the harness's NGINX serves; the server certificate covers both.
const (
	ControllerHost = "controller.anka.test"
	RegistryHost   = "registry.anka.test"
)

// Options configures Start.
type Options struct {
	// Bin is the nginx binary (realtool.NGINX).
	Bin string
	// Dir is an empty directory that becomes NGINX's prefix: conf/, logs/,
	// temp/ and tls/ are created in it.
	Dir string
	// Render renders the settings; nil means nginxconf.Render.
	Render func(nginxconf.Settings) (string, error)
	// Modify, if set, changes the settings before rendering.
	Modify func(*nginxconf.Settings)
	// ServerKey is the server key type, ServerKeyECDSA (default) or
	// ServerKeyRSA.
	ServerKey string
	// CRLNextUpdate, if set, makes the trusted CA's CRL (revoking nothing,
	// valid until this time) the settings' ClientCRLFile.
	CRLNextUpdate time.Time
}

// Harness is NGINX rendered from nginxconf.Settings, on loopback ports, in
// front of two recording upstreams, with a throwaway PKI.
type Harness struct {
	Dir        string
	PKI        *PKI
	Controller *Upstream
	Registry   *Upstream
	Settings   nginxconf.Settings // as rendered, defaults filled in
	Conf       string             // rendered nginx.conf
	NGINX      *NGINX
	TLSAddr    string // 127.0.0.1:port of the TLS listener
	HealthAddr string // 127.0.0.1:port of the plain-HTTP health listener
}

// Start builds the harness. On error everything started is stopped again.
func Start(o Options) (h *Harness, err error) {
	if o.Render == nil {
		o.Render = nginxconf.Render
	}
	h = &Harness{Dir: o.Dir}
	defer func() {
		if err != nil {
			h.Close()
			h = nil
		}
	}()
	for _, d := range []string{"conf", "logs", "temp", "tls"} {
		if err := os.MkdirAll(filepath.Join(o.Dir, d), 0o755); err != nil {
			return h, err
		}
	}
	if h.PKI, err = NewPKI(filepath.Join(o.Dir, "tls"), []string{ControllerHost, RegistryHost}, o.ServerKey); err != nil {
		return h, err
	}
	if h.Controller, err = StartUpstream("controller"); err != nil {
		return h, err
	}
	if h.Registry, err = StartUpstream("registry"); err != nil {
		return h, err
	}
	ports, err := realproc.FreePorts(2)
	if err != nil {
		return h, err
	}
	p := func(parts ...string) string { return filepath.Join(append([]string{o.Dir}, parts...)...) }
	s := nginxconf.Settings{
		ListenAddress:      "127.0.0.1",
		TLSPort:            ports[0],
		HealthPort:         ports[1],
		ControllerHostname: ControllerHost,
		RegistryHostname:   RegistryHost,
		ControllerUpstream: h.Controller.Addr,
		RegistryUpstream:   h.Registry.Addr,
		TLSCertFile:        h.PKI.ServerCertFile,
		TLSKeyFile:         h.PKI.ServerKeyFile,
		ClientCAFile:       h.PKI.CAFile,
		PidFile:            p("logs", "nginx.pid"),
		ErrorLog:           p("logs", "error.log"),
		ErrorLogLevel:      "info",
		AccessLog:          p("logs", "access.log"),
		ClientBodyTempPath: p("temp", "client_body"),
		ProxyTempPath:      p("temp", "proxy"),
		FastCGITempPath:    p("temp", "fastcgi"),
		UWSGITempPath:      p("temp", "uwsgi"),
		SCGITempPath:       p("temp", "scgi"),
	}
	if !o.CRLNextUpdate.IsZero() {
		s.ClientCRLFile = p("tls", "client-ca.crl")
		if err := h.PKI.WriteCRL(s.ClientCRLFile, o.CRLNextUpdate); err != nil {
			return h, err
		}
	}
	if o.Modify != nil {
		o.Modify(&s)
	}
	h.Settings = s.WithDefaults()
	if h.Conf, err = o.Render(s); err != nil {
		return h, err
	}
	confFile := p("conf", "nginx.conf")
	if err := os.WriteFile(confFile, []byte(h.Conf), 0o644); err != nil {
		return h, err
	}
	h.TLSAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(h.Settings.TLSPort))
	h.HealthAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(h.Settings.HealthPort))
	errorLog := h.Settings.ErrorLog
	if errorLog == "stderr" {
		errorLog = ""
	}
	h.NGINX, err = StartNGINX(o.Bin, o.Dir, confFile, errorLog, h.TLSAddr, h.HealthAddr)
	return h, err
}

// TempDirs are NGINX's five temp directories.
func (h *Harness) TempDirs() []string {
	s := h.Settings
	return []string{s.ClientBodyTempPath, s.ProxyTempPath, s.FastCGITempPath, s.UWSGITempPath, s.SCGITempPath}
}

// Close stops NGINX and the upstreams.
func (h *Harness) Close() error {
	var errs []error
	if h.NGINX != nil {
		errs = append(errs, h.NGINX.Stop())
	}
	for _, u := range []*Upstream{h.Controller, h.Registry} {
		if u != nil {
			errs = append(errs, u.Close())
		}
	}
	return errors.Join(errs...)
}

// URL is https://host:tlsport/path; Client dials the harness whatever the
// host, and the host goes into SNI and the Host header.
func (h *Harness) URL(host, path string) string {
	return fmt.Sprintf("https://%s:%d%s", host, h.Settings.TLSPort, path)
}

// Client returns an HTTP/1.1 client that trusts the test CA and presents
// cert (none if nil). It always sends cert when asked, even if its issuer is
// not among the CAs NGINX names, so a wrong certificate really reaches NGINX.
func (h *Harness) Client(cert *tls.Certificate) *http.Client {
	tlsConf := h.TLSConfig(cert)
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, h.TLSAddr)
		},
		TLSClientConfig:    tlsConf,
		ForceAttemptHTTP2:  false,
		DisableCompression: true,
		WriteBufferSize:    256 << 10,
		ReadBufferSize:     64 << 10,
	}}
}

// TLSConfig is the client TLS config Client uses, for raw connections.
func (h *Harness) TLSConfig(cert *tls.Certificate) *tls.Config {
	return &tls.Config{
		RootCAs: h.PKI.CAPool,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if cert == nil {
				return &tls.Certificate{}, nil
			}
			return cert, nil
		},
	}
}

// DirectClient is a plain-HTTP client with the same buffers as Client, for
// talking to an upstream without NGINX.
func DirectClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DisableCompression: true,
		WriteBufferSize:    256 << 10,
		ReadBufferSize:     64 << 10,
	}}
}

// Result is the outcome of Send.
type Result struct {
	Status  int    // 0 if no response
	Body    string // response body
	Reply   Reply  // decoded upstream reply, if the body was one
	Elapsed time.Duration
	Err     error // transport error
}

// Send issues method url with body (size bytes; nil for none) and the given
// request id header, and reads the whole response.
func Send(ctx context.Context, c *http.Client, method, url string, body io.Reader, size int64, id string, header http.Header) Result {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return Result{Err: err}
	}
	if body != nil {
		req.ContentLength = size
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if id != "" {
		req.Header.Set(HeaderRequestID, id)
	}
	resp, err := c.Do(req)
	if err != nil {
		return Result{Err: err, Elapsed: time.Since(start)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	r := Result{Status: resp.StatusCode, Body: string(b), Err: err, Elapsed: time.Since(start)}
	_ = json.Unmarshal(b, &r.Reply)
	return r
}

// RawRequest sends raw (a complete HTTP/1.1 request, CRLF line ends) over a
// fresh TLS connection to the harness with sni as the TLS server name, and
// returns the parsed response with its body read. It is for requests
// net/http refuses to build (forged headers in odd spellings) and for server
// names the certificate does not cover: it checks the server's chain against
// the test CA but not the name.
func (h *Harness) RawRequest(cert *tls.Certificate, sni, raw string) (*http.Response, string, error) {
	conf := h.TLSConfig(cert)
	conf.ServerName = sni
	conf.InsecureSkipVerify = true // the chain is verified below, without the name
	conf.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("no server certificate")
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: h.PKI.CAPool})
		return err
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", h.TLSAddr, conf)
	if err != nil {
		return nil, "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		return nil, "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// MiBps is bytes/elapsed in MiB/s.
func MiBps(bytes int64, elapsed time.Duration) float64 {
	return float64(bytes) / (1 << 20) / elapsed.Seconds()
}
