// Package fakeaws is the AWS an etcd backup pod talks to in tests, without AWS: an HTTPS proxy that
// fakes S3 (gofakes3, in memory) and STS (AssumeRoleWithWebIdentity, as IRSA's credential provider
// calls it). The same approach as components/etcd/member's backup test, made reusable so that the
// real-pod test (tests/integration) can point a backup Job's pod at it.
package fakeaws

import (
	"bufio"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/testca"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// FakeAWS is the AWS a backup pod talks to: an HTTPS proxy (the client's
// HTTPS_PROXY) that terminates each CONNECT tunnel with a certificate for the requested host,
// signed by a test CA (the client's AWS_CA_BUNDLE), and answers
//   - sts.<region>.amazonaws.com: AssumeRoleWithWebIdentity, as IRSA's credential provider calls it;
//   - <bucket>.s3.<region>.amazonaws.com (or path-style s3.<region>.amazonaws.com): gofakes3 on an
//     in-memory backend.
//
// The AWS CLI thus resolves the real endpoints itself (no endpoint override, which AWS CLI 2.9 has
// no environment variable or config for) and speaks TLS to them; only the proxy and the CA bundle
// are test plumbing. Any other host, or any plain-HTTP proxy request, is recorded as unexpected.
type FakeAWS struct {
	region, bucket string
	roleARN        string // the role STS accepts (the one IRSA names)
	acceptToken    func(string) error
	// CAFile holds CAPEM, the CA of the certificates the proxy presents; ProxyURL is HTTPS_PROXY.
	CAFile, CAPEM, ProxyURL string

	Backend *s3mem.Backend
	// The credentials STS hands out.
	AccessKeyID, SecretAccessKey, SessionToken string

	ca      *testca.CA
	s3      http.Handler
	inner   *http.Server
	proxy   *http.Server
	tunnels *tunnelListener

	mu         sync.Mutex
	leafs      map[string]*tls.Certificate
	connects   []string
	stsCalls   []url.Values
	s3Requests []S3Request
	unexpected []string
}

type S3Request struct {
	Method, Host, Path, Authorization, SecurityToken string
}

// New starts a fake AWS whose proxy listens on listen (e.g. "127.0.0.1:0", or an address pods can
// reach), writes its CA certificate into dir, creates bucket, and hands out credentials from STS for
// roleARN to a web identity token that acceptToken accepts (nil: any non-empty token). Close stops it.
func New(dir, listen, region, bucket, roleARN string, acceptToken func(token string) error) (*FakeAWS, error) {
	f := &FakeAWS{region: region, bucket: bucket, roleARN: roleARN, acceptToken: acceptToken,
		AccessKeyID: "ASIAANKATESTIRSA0001", SecretAccessKey: "anka-test-secret-" + rand.Text(),
		SessionToken: "anka-test-session-" + rand.Text(), leafs: map[string]*tls.Certificate{}}

	now := time.Now()
	var err error
	if f.ca, err = testca.NewFrom(&x509.Certificate{
		Subject: pkix.Name{CommonName: "anka-etcd-backup test CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}); err != nil {
		return nil, err
	}
	f.CAPEM = f.ca.CertPEM
	f.CAFile = filepath.Join(dir, "fake-aws-ca.pem")
	if err := os.WriteFile(f.CAFile, []byte(f.CAPEM), 0o600); err != nil {
		return nil, err
	}

	f.Backend = s3mem.New()
	if err := f.Backend.CreateBucket(bucket); err != nil {
		return nil, err
	}
	f.s3 = gofakes3.New(f.Backend, gofakes3.WithHostBucketBase("s3."+region+".amazonaws.com")).Server()

	f.tunnels = &tunnelListener{conns: make(chan net.Conn), closed: make(chan struct{})}
	f.inner = &http.Server{Handler: http.HandlerFunc(f.serveAWS), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = f.inner.Serve(f.tunnels) }() // returns when Close is called
	l, err := net.Listen("tcp", listen)
	if err != nil {
		_ = f.inner.Close()
		return nil, err
	}
	f.proxy = &http.Server{Handler: http.HandlerFunc(f.serveProxy), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = f.proxy.Serve(l) }()
	f.ProxyURL = "http://" + l.Addr().String()
	return f, nil
}

// Close stops the proxy and the fake endpoints behind it.
func (f *FakeAWS) Close() {
	_ = f.proxy.Close()
	_ = f.inner.Close() // also closes the tunnel listener
}

// ClientEnv is the test plumbing added to a client's environment: the proxy and the CA bundle (at
// caPath, where the client sees CAFile).
func (f *FakeAWS) ClientEnv(caPath string) []string {
	return []string{"HTTPS_PROXY=" + f.ProxyURL, "NO_PROXY=127.0.0.1,localhost", "AWS_CA_BUNDLE=" + caPath}
}

func (f *FakeAWS) unexpectedf(format string, a ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unexpected = append(f.unexpected, fmt.Sprintf(format, a...))
}

// Unexpected lists the requests FakeAWS refused: they would have gone to something it does not fake.
func (f *FakeAWS) Unexpected() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.unexpected...)
}

func (f *FakeAWS) Connects() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.connects...)
}

func (f *FakeAWS) STSCalls() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.stsCalls...)
}

func (f *FakeAWS) S3Requests() []S3Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]S3Request(nil), f.s3Requests...)
}

// serveProxy answers CONNECT host:443 and hands the tunnel, wrapped in TLS, to the inner server.
func (f *FakeAWS) serveProxy(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		f.unexpectedf("plain proxy request %s %s", r.Method, r.URL)
		http.Error(w, "fake AWS proxies CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	f.mu.Lock()
	f.connects = append(f.connects, r.Host)
	f.mu.Unlock()
	conn, rw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		f.unexpectedf("hijacking CONNECT %s: %v", r.Host, err)
		return
	}
	if _, err := conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		conn.Close()
		return
	}
	tlsConn := tls.Server(&bufferedConn{Conn: conn, r: rw.Reader}, &tls.Config{
		GetCertificate: f.leaf, NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12})
	select {
	case f.tunnels.conns <- tlsConn:
	case <-f.tunnels.closed:
		conn.Close()
	}
}

// leaf issues (once per name) a certificate for the host the client asks for by SNI.
func (f *FakeAWS) leaf(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := hello.ServerName
	if name == "" {
		return nil, fmt.Errorf("fake AWS: the client sent no SNI")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.leafs[name]; ok {
		return c, nil
	}
	leaf, err := f.ca.Issue(&x509.Certificate{
		Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return nil, err
	}
	c := leaf.TLS()
	f.leafs[name] = &c
	return &c, nil
}

// serveAWS answers the requests that came through a tunnel, by Host.
func (f *FakeAWS) serveAWS(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	s3Host := "s3." + f.region + ".amazonaws.com"
	switch host {
	case "sts." + f.region + ".amazonaws.com":
		f.serveSTS(w, r)
	case s3Host, f.bucket + "." + s3Host:
		f.mu.Lock()
		f.s3Requests = append(f.s3Requests, S3Request{Method: r.Method, Host: host, Path: r.URL.Path,
			Authorization: r.Header.Get("Authorization"), SecurityToken: r.Header.Get("X-Amz-Security-Token")})
		f.mu.Unlock()
		f.s3.ServeHTTP(w, r)
	default:
		f.unexpectedf("request to %s: %s %s", r.Host, r.Method, r.URL)
		http.Error(w, "fake AWS does not serve "+r.Host, http.StatusBadGateway)
	}
}

// serveSTS answers AssumeRoleWithWebIdentity (an unsigned query-protocol POST) for the role and
// token it was given, as STS does for an IRSA pod whose token the cluster's OIDC provider signed.
func (f *FakeAWS) serveSTS(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	form := r.PostForm
	f.mu.Lock()
	f.stsCalls = append(f.stsCalls, form)
	f.mu.Unlock()
	stsError := func(code, msg string) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>anka-test</RequestId></ErrorResponse>`, code, msg)
	}
	switch {
	case r.Method != http.MethodPost || form.Get("Action") != "AssumeRoleWithWebIdentity":
		f.unexpectedf("STS %s Action=%q", r.Method, form.Get("Action"))
		stsError("InvalidAction", "fake STS answers AssumeRoleWithWebIdentity only")
	case r.Header.Get("Authorization") != "":
		f.unexpectedf("STS AssumeRoleWithWebIdentity was signed: %s", r.Header.Get("Authorization"))
		stsError("InvalidRequest", "AssumeRoleWithWebIdentity is not signed")
	case form.Get("RoleArn") != f.roleARN || !f.tokenOK(form.Get("WebIdentityToken")):
		stsError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
	default:
		w.Header().Set("Content-Type", "text/xml")
		//nolint:gosec // G705: the test's own fake STS echoes the test's values, not a client's
		fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Audience>sts.amazonaws.com</Audience>
    <AssumedRoleUser>
      <AssumedRoleId>AROAANKATEST:%[1]s</AssumedRoleId>
      <Arn>%[2]s/%[1]s</Arn>
    </AssumedRoleUser>
    <Provider>arn:aws:iam::123456789012:oidc-provider/oidc.eks.%[3]s.amazonaws.com/id/ANKATEST</Provider>
    <Credentials>
      <AccessKeyId>%[4]s</AccessKeyId>
      <SecretAccessKey>%[5]s</SecretAccessKey>
      <SessionToken>%[6]s</SessionToken>
      <Expiration>%[7]s</Expiration>
    </Credentials>
    <SubjectFromWebIdentityToken>system:serviceaccount:anka:etcd-backup</SubjectFromWebIdentityToken>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>anka-test-request</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>
`, form.Get("RoleSessionName"), strings.Replace(f.roleARN, ":iam::", ":sts::", 1), f.region,
			f.AccessKeyID, f.SecretAccessKey, f.SessionToken, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	}
}

// tunnelListener hands the proxy's TLS tunnels to the inner HTTP server.
type tunnelListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *tunnelListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *tunnelListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *tunnelListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// bufferedConn reads first what the proxy's reader buffered after the CONNECT request.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// tokenOK: the token acceptToken accepts (any non-empty token without one).
func (f *FakeAWS) tokenOK(token string) bool {
	if token == "" {
		return false
	}
	if f.acceptToken == nil {
		return true
	}
	if err := f.acceptToken(token); err != nil {
		f.unexpectedf("STS web identity token refused: %v", err)
		return false
	}
	return true
}
