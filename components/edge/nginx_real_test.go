package edge

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anka-ha/anka-build-cloud-aws/components/edge/nginxconf"
	"github.com/anka-ha/anka-build-cloud-aws/internal/realtool"
)

// TestEdgeNginxRealAcceptsTheRenderedConfigAndPKI runs `nginx -t` on the
// edge's settings with the paths moved into a temp dir and the upstreams on
// loopback: the certificate, key, client CA and CRL the edge mounts (here
// from Go's crypto, as the local stack gets them) load in a real NGINX.
// nginxconf's own real-NGINX tests cover the behaviour; this covers the
// edge's wiring. nginx is found as realtool.NGINX finds it; skipped without
// it unless ANKA_REQUIRE_NGINX=1.
func TestEdgeNginxRealAcceptsTheRenderedConfigAndPKI(t *testing.T) {
	bin := realtool.NGINX.Require(t)
	p := pki(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		return path
	}
	s := nlbArgs(t).NginxSettings()
	s.TLSCertFile = write("tls.crt", p.ServerCert)
	s.TLSKeyFile = write("tls.key", p.ServerKey)
	s.ClientCAFile = write("ca.crt", p.ClientCA)
	s.ClientCRLFile = write("ca.crl", p.CRL)
	s.ControllerUpstream, s.RegistryUpstream = "127.0.0.1:18080", "127.0.0.1:18089"
	s.PidFile = filepath.Join(dir, "nginx.pid")
	for _, tp := range []*string{&s.ClientBodyTempPath, &s.ProxyTempPath, &s.FastCGITempPath, &s.UWSGITempPath, &s.SCGITempPath} {
		*tp = filepath.Join(dir, filepath.Base(*tp))
	}
	conf, err := nginxconf.Render(s)
	require.NoError(t, err)
	confPath := write("nginx.conf", conf)

	out, err := exec.Command(bin, "-t", "-c", confPath, "-e", "stderr", "-g", "daemon off;").CombinedOutput()
	require.NoError(t, err, "nginx -t:\n%s", out)
	require.True(t, strings.Contains(string(out), "test is successful"), "%s", out)
}
