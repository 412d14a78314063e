package member

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/pki"
	"github.com/anka-ha/anka-build-cloud-aws/internal/realproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secretVolume writes a bundle the way the kubelet updates a Secret volume:
// the files are symlinks into ..data, and ..data is swapped atomically to a
// new directory, so a reader never sees a certificate without its key.
func secretVolume(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o700))
	gen, err := os.MkdirTemp(dir, "..gen-")
	require.NoError(t, err)
	for name, text := range files {
		require.NoError(t, os.WriteFile(filepath.Join(gen, name), []byte(text), 0o600))
		link := filepath.Join(dir, name)
		if _, err := os.Lstat(link); os.IsNotExist(err) {
			require.NoError(t, os.Symlink(filepath.Join("..data", name), link))
		}
	}
	tmp := filepath.Join(dir, "..data_tmp")
	_ = os.Remove(tmp)
	require.NoError(t, os.Symlink(filepath.Base(gen), tmp))
	require.NoError(t, os.Rename(tmp, filepath.Join(dir, "..data")))
}

// tlsProbe dials addr presenting certPEM (always, as an attacker would) and
// trusting rootsPEM; it returns the certificate the member served.
func tlsProbe(addr, rootsPEM, certPEM, keyPEM string) (*x509.Certificate, error) {
	c, err := realproc.MTLSClient(5*time.Second, rootsPEM, certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	resp, err := c.Get(addr + "/version")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", addr, resp.StatusCode)
	}
	return resp.TLS.PeerCertificates[0], nil
}

// TestRealEtcdTLSRotationRunbook follows docs/operations.md "Renewing
// etcd's certificates" and "Rotating etcd's certificates" on a live
// 3-member cluster run by member.sh, each member with its own Secret
// volume: a renewal (same keys, new dates: members restart one at a time),
// then the generation bump: step 1 (trust both
// generations: CA bundles change, members restart one at a time), step 2
// (issue the new generation: only leaves change, no restart, etcd reloads
// them per handshake), step 3 (drop the old generation: members restart one
// at a time). A writer runs throughout; quorum holds and every key written
// survives each step; at the end the old generation is refused.
func TestRealEtcdTLSRotationRunbook(t *testing.T) {
	e := newTestEnv(t)
	seed, err := pki.DecodeSeed("7f3c1a9e5b2d48c6a0e1f4b3c2d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7")
	require.NoError(t, err)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	dated := func(generation, rotateFrom int, notBefore time.Time) pki.EtcdBundle {
		b, err := pki.NewEtcdBundle(pki.Params{Seed: seed, Scope: pki.Scope{Stack: "anka/test", Namespace: "anka"},
			Generation: generation, RotateFrom: rotateFrom, NotBefore: notBefore})
		require.NoError(t, err)
		return b
	}
	bundle := func(generation, rotateFrom int) pki.EtcdBundle { return dated(generation, rotateFrom, today) }
	tlsDir := filepath.Join(e.root, "tls")
	controller := filepath.Join(tlsDir, "controller")
	// The Controller's Secret (etcd-client-tls) and the harness's etcdctl.
	useClient := func(b pki.EtcdBundle) *http.Client {
		secretVolume(t, controller, b.ClientFiles())
		e.tls = &tlsFiles{ca: filepath.Join(controller, "ca.crt"), cert: filepath.Join(controller, "client.crt"), key: filepath.Join(controller, "client.key")}
		e.kv = kvClient{realproc.Gateway{Client: e.tls.httpClient(t)}}
		return e.kv.Client
	}
	g1 := bundle(1, 0)
	// The cluster starts on certificates dated a week ago, renewed below.
	old := dated(1, 0, today.AddDate(0, 0, -7))
	useClient(old)
	ms := e.loopbackMembers(3)
	pod := filepath.Join(tlsDir, "$(POD_NAME)")
	s := e.settings(ms, func(s *Settings) {
		s.TLS = TLS{Enabled: true, CAFile: filepath.Join(pod, "ca.crt"), PeerCAFile: filepath.Join(pod, "peer-ca.crt"),
			ServerCertFile: filepath.Join(pod, "server.crt"), ServerKeyFile: filepath.Join(pod, "server.key"),
			PeerCertFile: filepath.Join(pod, "peer.crt"), PeerKeyFile: filepath.Join(pod, "peer.key"),
			ClientCertFile: filepath.Join(pod, "client.crt"), ClientKeyFile: filepath.Join(pod, "client.key")}
	})
	require.NoError(t, s.Validate())
	for _, m := range ms {
		secretVolume(t, filepath.Join(tlsDir, m.Name), old.Files())
	}
	ps := e.startCluster(t, s)
	e.kv.putMany(t, ms[0].ClientURL, "key/", 200)
	w := e.kv.startWriter(endpoints(ms...))
	defer w.stop()

	// check: quorum (a linearizable read), every key written so far on
	// every member, the writer never down for long.
	check := func(step string) {
		t.Helper()
		e.waitHealthy(t, ms...)
		e.waitVoters(t, ms[0].ClientURL, names(ms)...)
		written, outage, lastErr := w.snapshot()
		require.NotEmpty(t, written, "%s: the writer wrote nothing", step)
		for _, m := range ms {
			e.waitKeys(t, m.ClientURL, "key/", "200")
			out, err := e.ctl("--endpoints="+m.ClientURL, "get", "writer/", "--prefix", "--keys-only", "--consistency=l")
			require.NoError(t, err, "%s: %s", step, out)
			have := map[string]bool{}
			for _, k := range strings.Fields(out) {
				have[k] = true
			}
			for _, k := range written {
				require.True(t, have[k], "%s: key %s written earlier is missing on %s", step, k, m.Name)
			}
		}
		assert.Less(t, outage, 15*time.Second, "%s: writes stopped for %s (last error %v)", step, outage, lastErr)
		t.Logf("%s: quorum kept, %d written keys on every member, longest write outage %s", step, len(written), outage.Round(time.Millisecond))
	}
	// rollOne restarts members one at a time, highest ordinal first (a
	// StatefulSet rolling update), each with its volume already updated.
	roll := func(b pki.EtcdBundle, before func(i int)) {
		for i := len(ms) - 1; i >= 0; i-- {
			secretVolume(t, filepath.Join(tlsDir, ms[i].Name), b.Files())
			if before != nil {
				before(i)
			}
			ps[i].stop(t)
			ps[i] = e.startPod(s, ms[i].Name, "", ModeStart)
			e.waitHealthy(t, ms...)
			e.waitVoters(t, ms[0].ClientURL, names(ms)...)
		}
	}
	// Renewal (docs/operations.md "Renewing etcd's certificates"): the
	// Secret changes on every member's volume at once (the members load the
	// re-dated leaves at their next handshakes, still holding the old CA
	// certificates), then the members restart one at a time. The keys are
	// the same, so nothing is refused on the way.
	for _, m := range ms {
		secretVolume(t, filepath.Join(tlsDir, m.Name), g1.Files())
	}
	roll(g1, nil)
	w.use(useClient(g1))
	for _, m := range ms {
		cert, err := tlsProbe(m.ClientURL, g1.CACert, g1.ClientCert, g1.ClientKey)
		require.NoError(t, err)
		assert.Equal(t, today.Add(pki.LeafValidity), cert.NotAfter, "%s serves the renewed certificate", m.Name)
	}
	check("renewal (a new notBefore)")

	g2 := bundle(2, 0)
	issue := bundle(2, 1)
	peerAddr := func(m Member) string { return m.PeerURL }

	// Step 1: trust both generations. etcd reads the CA files only at
	// start: until its restart, a member with the new bundle on its volume
	// still refuses the new generation's client certificate.
	trust := bundle(1, 1)
	roll(trust, func(i int) {
		if i != len(ms)-1 {
			return
		}
		_, err := tlsProbe(ms[i].ClientURL, trust.CACert, g2.ClientCert, g2.ClientKey)
		require.Error(t, err, "a CA bundle on disk must not be trusted before the member restarts")
		assert.Contains(t, err.Error(), "remote error: tls: unknown certificate authority")
	})
	useClient(trust)
	for _, m := range ms {
		_, err := tlsProbe(m.ClientURL, trust.CACert, g2.ClientCert, g2.ClientKey)
		assert.NoError(t, err, "after its restart %s trusts generation 2's client certificate", m.Name)
		_, err = tlsProbe(peerAddr(m), trust.PeerCACert, g2.PeerCert, g2.PeerKey)
		assert.NoError(t, err, "after its restart %s trusts generation 2's peer certificate", m.Name)
	}
	check("step 1 (trust generations 1 and 2)")

	// Step 2: issue generation 2. Only the leaves change; no member
	// restarts, and each serves the new certificates once its volume has
	// them (etcd loads the key pair on every handshake).
	before := make([]int, len(ps))
	for i, p := range ps {
		before[i] = p.cmd.Process.Pid
	}
	for _, m := range ms {
		secretVolume(t, filepath.Join(tlsDir, m.Name), issue.Files())
		for url, wantCN := range map[string]string{m.ClientURL: "anka etcd CA g2", peerAddr(m): "anka etcd peer CA g2"} {
			roots := issue.CACert
			if url == peerAddr(m) {
				roots = issue.PeerCACert
			}
			cert, err := tlsProbe(url, roots, issue.PeerCert, issue.PeerKey)
			if url == m.ClientURL {
				cert, err = tlsProbe(url, roots, issue.ClientCert, issue.ClientKey)
			}
			require.NoError(t, err, "%s", url)
			assert.Equal(t, wantCN, cert.Issuer.CommonName, "%s serves generation 2 without a restart", url)
		}
		time.Sleep(time.Second)
	}
	w.use(useClient(issue))
	for i, p := range ps {
		assert.False(t, p.exited(), "step 2 restarts no member")
		assert.Equal(t, before[i], p.cmd.Process.Pid)
	}
	check("step 2 (issue generation 2)")

	// Step 3: drop generation 1.
	roll(g2, nil)
	w.use(useClient(g2))
	check("step 3 (trust generation 2 only)")

	for _, m := range ms {
		_, err := tlsProbe(m.ClientURL, g2.CACert, g1.ClientCert, g1.ClientKey)
		require.Error(t, err, "%s must refuse generation 1's client certificate", m.Name)
		assert.Contains(t, err.Error(), "remote error: tls: unknown certificate authority")
		_, err = tlsProbe(peerAddr(m), g2.PeerCACert, g1.PeerCert, g1.PeerKey)
		require.Error(t, err, "%s must refuse generation 1's peer certificate", m.Name)
		assert.Contains(t, err.Error(), "remote error: tls: unknown certificate authority")
		_, err = tlsProbe(m.ClientURL, g2.CACert, g2.ClientCert, g2.ClientKey)
		assert.NoError(t, err)
	}
}
