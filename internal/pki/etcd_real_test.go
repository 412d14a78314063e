package pki

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/realtool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestEtcdBundleWorksWithRealEtcd: the derived Ed25519 certificates serve
// etcd's client and peer URLs with client-certificate auth, etcdctl with the
// client certificate is served, and a client without one is refused.
func TestEtcdBundleWorksWithRealEtcd(t *testing.T) {
	bin := realtool.EtcdBinDir(t)
	dir := t.TempDir()
	b, err := NewEtcdBundle(seed, "anka", []string{"*.etcd-headless.anka.svc.cluster.local"})
	require.NoError(t, err)
	for name, pem := range b.Files() {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(pem), 0o600))
	}
	client := fmt.Sprintf("https://127.0.0.1:%d", freePort(t))
	peer := fmt.Sprintf("https://127.0.0.1:%d", freePort(t))
	f := func(n string) string { return filepath.Join(dir, n) }
	etcd := exec.Command(filepath.Join(bin, "etcd"), "--name", "m", "--data-dir", f("data"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "m="+peer,
		"--client-cert-auth", "--trusted-ca-file", f("ca.crt"), "--cert-file", f("server.crt"), "--key-file", f("server.key"),
		"--peer-client-cert-auth", "--peer-trusted-ca-file", f("ca.crt"), "--peer-cert-file", f("peer.crt"), "--peer-key-file", f("peer.key"))
	require.NoError(t, etcd.Start())
	t.Cleanup(func() { _ = etcd.Process.Kill(); _, _ = etcd.Process.Wait() })

	ctl := func(withCert bool, args ...string) ([]byte, error) {
		base := []string{"--endpoints", client, "--cacert", f("ca.crt"), "--command-timeout", "3s"}
		if withCert {
			base = append(base, "--cert", f("client.crt"), "--key", f("client.key"))
		}
		return exec.Command(filepath.Join(bin, "etcdctl"), append(base, args...)...).CombinedOutput()
	}
	var out []byte
	deadline := time.Now().Add(30 * time.Second)
	for {
		if out, err = ctl(true, "put", "k", "v"); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	require.NoError(t, err, "%s", out)
	out, err = ctl(true, "get", "k", "--print-value-only")
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "v\n", string(out))
	out, err = ctl(false, "get", "k")
	assert.Error(t, err, "a client without a certificate must be refused: %s", out)
}
