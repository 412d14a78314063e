package pki

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/poll"
	"github.com/anka-ha/anka-build-cloud-aws/internal/realproc"
	"github.com/anka-ha/anka-build-cloud-aws/internal/realtool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// today is the date a stack would configure today: its certificates are
// valid now.
func today() time.Time { return time.Now().UTC().Truncate(24 * time.Hour) }

// realEtcd starts one member with the bundle's files and the TLS flags
// member.sh gives etcd, and returns its client and peer URLs once a client
// with the client certificate is served.
func realEtcd(t *testing.T, b EtcdBundle) (dir, client, peer string) {
	t.Helper()
	bin := realtool.EtcdBinDir(t)
	dir = t.TempDir()
	for name, pem := range b.Files() {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(pem), 0o600))
	}
	m := realproc.NewEtcd(t, "m", "https")
	f := func(n string) string { return filepath.Join(dir, n) }
	m.Start(t, bin, dir, "--initial-cluster", "m="+m.PeerURL,
		"--client-cert-auth", "--trusted-ca-file", f("ca.crt"), "--cert-file", f("server.crt"), "--key-file", f("server.key"),
		"--client-cert-file", f("client.crt"), "--client-key-file", f("client.key"),
		"--peer-client-cert-auth", "--peer-trusted-ca-file", f("peer-ca.crt"), "--peer-cert-file", f("peer.crt"), "--peer-key-file", f("peer.key"))
	require.NoError(t, poll.Until(context.Background(), 30*time.Second, 300*time.Millisecond, "etcd to serve the client certificate", func() error {
		out, err := etcdctl(t, dir, m.ClientURL, "client", "put", "k", "v")
		if err != nil {
			return fmt.Errorf("etcdctl put: %w: %s", err, strings.TrimSpace(out))
		}
		return nil
	}))
	return dir, m.ClientURL, m.PeerURL
}

// etcdctl runs etcdctl against endpoint trusting the bundle's CA in dir,
// presenting cert (e.g. "client": dir/client.crt and dir/client.key;
// none if "").
func etcdctl(t *testing.T, dir, endpoint, cert string, args ...string) (string, error) {
	base := []string{"--endpoints", endpoint, "--cacert", filepath.Join(dir, "ca.crt"), "--command-timeout", "3s"}
	if cert != "" {
		base = append(base, "--cert", filepath.Join(dir, cert+".crt"), "--key", filepath.Join(dir, cert+".key"))
	}
	return realproc.Etcdctl(realtool.EtcdBinDir(t), append(base, args...)...)
}

// get is an HTTPS GET presenting certPEM/keyPEM and verifying the member
// against rootsPEM, so a failure is the member refusing the certificate,
// not the client refusing the member.
func get(t *testing.T, url, rootsPEM, certPEM, keyPEM string) (int, string, error) {
	t.Helper()
	c, err := realproc.MTLSClient(5*time.Second, rootsPEM, certPEM, keyPEM)
	require.NoError(t, err)
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), nil
}

// TestEtcdBundleWorksWithRealEtcd: the derived Ed25519 certificates serve
// etcd's client and peer URLs with client-certificate auth, etcdctl with the
// client certificate is served (including the JSON gateway, which dials the
// member with the client certificate since the server certificate is
// serverAuth only), and a client without one is refused.
func TestEtcdBundleWorksWithRealEtcd(t *testing.T) {
	b := bundle(t, func(p *Params) { p.NotBefore = today() })
	dir, client, _ := realEtcd(t, b)
	out, err := etcdctl(t, dir, client, "client", "get", "k", "--print-value-only")
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "v\n", out)
	out, err = etcdctl(t, dir, client, "", "get", "k")
	assert.Error(t, err, "a client without a certificate must be refused: %s", out)

	status, body, err := get(t, client+"/version", b.CACert, b.ClientCert, b.ClientKey)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status, body)
	c, err := realproc.MTLSClient(5*time.Second, b.CACert, b.ClientCert, b.ClientKey)
	require.NoError(t, err)
	_, err = realproc.Gateway{Client: c}.Range(client, "k")
	assert.NoError(t, err, "the gRPC gateway must reach the member")
}

// TestRealEtcdPeerPortAcceptsOnlyPeerCertificates: on 2380 the client
// certificate (mounted in the Controller, backup and prune pods) is refused
// by TLS, the peer certificate is served; on 2379 the server certificate
// cannot act as a client.
func TestRealEtcdPeerPortAcceptsOnlyPeerCertificates(t *testing.T) {
	b := bundle(t, func(p *Params) { p.NotBefore = today() })
	_, client, peer := realEtcd(t, b)

	status, body, err := get(t, peer+"/members", b.PeerCACert, b.PeerCert, b.PeerKey)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"name":"m"`)

	refused(t, peer+"/members", b.PeerCACert, b.ClientCert, b.ClientKey, unknownCA, "the client certificate must be refused on the peer port")
	refused(t, peer+"/members", b.PeerCACert, b.ServerCert, b.ServerKey, unknownCA, "the server certificate must be refused on the peer port")
	refused(t, client+"/version", b.CACert, b.ServerCert, b.ServerKey, badCert, "the server certificate must not work as a client")
}

// TestRealEtcdRefusesAnotherStacksCertificates: the same seed in another
// stack gives certificates this cluster refuses.
func TestRealEtcdRefusesAnotherStacksCertificates(t *testing.T) {
	b := bundle(t, func(p *Params) { p.NotBefore = today() })
	other := bundle(t, func(p *Params) { p.NotBefore, p.Scope.Stack = today(), "anka/dev" })
	_, client, peer := realEtcd(t, b)

	status, _, err := get(t, client+"/version", b.CACert, b.ClientCert, b.ClientKey)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	refused(t, client+"/version", b.CACert, other.ClientCert, other.ClientKey, unknownCA, "another stack's client certificate must be refused")
	refused(t, peer+"/members", b.PeerCACert, other.PeerCert, other.PeerKey, unknownCA, "another stack's peer certificate must be refused")
}

// The TLS alerts etcd (Go's crypto/tls: alertUnknownCA, alertBadCertificate)
// sends for a client certificate it refuses: one no trusted CA issued, and
// one not valid for client auth.
const (
	unknownCA = "remote error: tls: unknown certificate authority"
	badCert   = "remote error: tls: bad certificate"
)

// refused asserts that the member at url ends the handshake of a client
// presenting certPEM/keyPEM (and trusting rootsPEM) with the alert want.
func refused(t *testing.T, url, rootsPEM, certPEM, keyPEM, want, why string) {
	t.Helper()
	_, _, err := get(t, url, rootsPEM, certPEM, keyPEM)
	require.Error(t, err, why)
	assert.Contains(t, err.Error(), want, why)
}
