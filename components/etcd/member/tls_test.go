package member

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/realproc"
	"github.com/anka-ha/anka-build-cloud-aws/internal/testca"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// makeTLS writes a CA and one certificate for 127.0.0.1/localhost usable as server, peer and client
// certificate, and switches the env to https.
func (e *testEnv) makeTLS(t *testing.T) {
	t.Helper()
	dir := filepath.Join(e.root, "tls")
	require.NoError(t, os.MkdirAll(dir, 0o700))
	now := time.Now()
	ca, err := testca.NewFrom(&x509.Certificate{
		Subject: pkix.Name{CommonName: "anka-etcd-test-ca"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	})
	require.NoError(t, err)
	cert, err := ca.Issue(&x509.Certificate{
		Subject: pkix.Name{CommonName: "etcd"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	})
	require.NoError(t, err)
	f := &tlsFiles{ca: filepath.Join(dir, "ca.crt"), cert: filepath.Join(dir, "etcd.crt"), key: filepath.Join(dir, "etcd.key")}
	require.NoError(t, os.WriteFile(f.ca, []byte(ca.CertPEM), 0o644))
	require.NoError(t, os.WriteFile(f.cert, []byte(cert.CertPEM), 0o644))
	require.NoError(t, os.WriteFile(f.key, []byte(cert.KeyPEM), 0o600))
	e.tls = f
	e.kv = kvClient{realproc.Gateway{Client: f.httpClient(t)}}
}

// TestMemberTLS: with TLS on, the same settings serve https with client-cert auth on client and
// peer URLs, and the start logic (member list, remove, add, promote) works through it.
func TestMemberTLS(t *testing.T) {
	e := newTestEnv(t)
	e.makeTLS(t)
	ms := e.loopbackMembers(3)
	// Production raft timing (250 ms / 2500 ms) in this one test.
	s := e.settings(ms, func(s *Settings) { s.HeartbeatIntervalMs, s.ElectionTimeoutMs = 0, 0 })
	require.Equal(t, DefaultElectionTimeoutMs, s.ElectionTimeoutMs)
	require.NoError(t, s.Validate())
	began := time.Now()
	ps := e.startCluster(t, s)
	boot := time.Since(began)
	e.kv.putMany(t, ms[0].ClientURL, "key/", 200)

	// Without a client certificate the member refuses the connection.
	ca, err := os.ReadFile(e.tls.ca)
	require.NoError(t, err)
	anon, err := realproc.MTLSClient(2*time.Second, string(ca), "", "")
	require.NoError(t, err)
	_, err = realproc.Gateway{Client: anon}.Range(ms[0].ClientURL, "key/0000")
	require.Error(t, err, "client-cert auth must reject a client without certificate")
	plain := realproc.Gateway{Client: &http.Client{Timeout: 2 * time.Second}}.Put("http"+ms[0].ClientURL[len("https"):], "k", []byte("v"))
	require.Error(t, plain, "no plain http on the client URL")

	began = time.Now()
	ps[2].stop(t)
	require.NoError(t, os.RemoveAll(e.dataDir("etcd-2")))
	ps[2] = e.startPod(s, "etcd-2", "", ModeStart)
	ps[2].waitLog(t, `decision=added-learner member=etcd-2 id=\w+ reason=lost-data`, 60*time.Second)
	ps[2].waitLog(t, `decision=promoted member=etcd-2`, 60*time.Second)
	e.waitVoters(t, ms[0].ClientURL, names(ms)...)
	// A freshly promoted member on a loaded machine may need a moment before
	// its client port answers serializable reads.
	eventually(t, 30*time.Second, "200 keys readable from etcd-2", func() error {
		n, err := e.countKeys(ms[2].ClientURL, "key/", true)
		if err != nil {
			return err
		}
		if n != "200" {
			return fmt.Errorf("got %s keys", n)
		}
		return nil
	})

	h := e.startPod(s, "etcd-2", "", ModeHealth)
	assert.Equal(t, 0, h.wait(t, 30*time.Second))
	line := h.waitLog(t, `health=ok member=etcd-2 endpoint=https://[^\n]*`, time.Second)
	t.Logf("TLS (https + client-cert auth, 250/2500 ms raft timing): boot %s; anonymous and plain-http clients rejected; volume-loss rejoin over TLS %s; 200/200 keys on etcd-2; %s",
		boot.Round(time.Millisecond), time.Since(began).Round(time.Millisecond), line)
}
