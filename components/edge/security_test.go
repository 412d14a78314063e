package edge

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/anka-ha/anka-build-cloud-aws/components/edge/nginxconf"
	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
)

func TestEdgeNginxKeepaliveKeepsItsShortDefaultWhateverTheIdleTimeout(t *testing.T) {
	// The transfer timeouts follow the load balancer's idle timeout; an idle
	// keep-alive connection cannot cut a transfer, so it keeps nginxconf's
	// 75 s instead of being held (in optional mode by a client without a
	// certificate) for the NLB's 6000 s.
	for _, idle := range []int{900, 3000, 6000} {
		a := nlbArgs(t)
		a.IdleTimeoutSeconds = idle
		s := a.NginxSettings()
		assert.Equal(t, []int{idle, idle, idle, idle}, []int{s.ClientBodyTimeoutSeconds, s.SendTimeoutSeconds, s.ProxyReadTimeoutSeconds, s.ProxySendTimeoutSeconds}, "idle %d", idle)
		assert.Equal(t, nginxconf.DefaultKeepaliveTimeoutSeconds, s.KeepaliveTimeoutSeconds, "idle %d", idle)
		assert.Equal(t, 75, s.KeepaliveTimeoutSeconds)
		require.NoError(t, a.Validate())
	}
	a := nlbArgs(t)
	a.Nginx.KeepaliveTimeoutSeconds = 3600
	err := a.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), nginxconf.KeyKeepaliveTimeoutSeconds+" must be between 1 and 900")
}

func TestEdgeExportsCertificateCAAndCRLExpiry(t *testing.T) {
	// NGINX reads the certificate, CA and CRL only at start, and past the
	// CRL's nextUpdate refuses every client (nginxconf's real-NGINX test):
	// the component exports the dates so alerting can warn before then.
	p := pki(t)
	notAfter := func(certPEM string) string {
		block, _ := pem.Decode([]byte(certPEM))
		require.NotNil(t, block)
		c, err := x509.ParseCertificate(block.Bytes)
		require.NoError(t, err)
		return c.NotAfter.UTC().Format(time.RFC3339)
	}
	block, _ := pem.Decode([]byte(p.CRL))
	crl, err := x509.ParseRevocationList(block.Bytes)
	require.NoError(t, err)

	_, e := run(t, nlbArgs(t))
	for _, tc := range []struct {
		name string
		out  pulumi.Output
		want string
	}{
		{"the server certificate's notAfter", e.TLSCertificateNotAfter, notAfter(p.ServerCert)},
		{"the client CA's notAfter", e.ClientCANotAfter, notAfter(p.ClientCA)},
		{"the CRL's nextUpdate", e.ClientCRLNextUpdate, crl.NextUpdate.UTC().Format(time.RFC3339)},
	} {
		got, secret := harness.MustAwait(t, tc.out)
		// An expiry date is no secret, so alerting can read it from a
		// stack reference as it is.
		assert.False(t, secret, "%s: expiry dates are plain outputs", tc.name)
		assert.Equal(t, tc.want, got, tc.name)
		assert.NotEmpty(t, got, tc.name)
	}

	t.Run("the earliest CA of a bundle is the one that counts", func(t *testing.T) {
		a := nlbArgs(t)
		a.MTLS.CRL = ""
		a.MTLS.CACertificate = p.ClientCA + p.OtherCA
		want := notAfter(p.ClientCA)
		if other := notAfter(p.OtherCA); other < want {
			want = other
		}
		assert.Equal(t, want, rfc3339(a.Expiry().ClientCANotAfter))
		assert.True(t, a.Expiry().ClientCRLNextUpdate.IsZero(), "no CRL, no date")
	})
	t.Run("material Pulumi never reads has no date", func(t *testing.T) {
		a := nlbArgs(t)
		a.TLS = TLSArgs{SecretName: "cert-manager-tls"}
		a.MTLS = MTLSArgs{CASecretName: "client-ca"}
		assert.Equal(t, Expiry{}, a.Expiry())
	})
	t.Run("mode alb exports nothing: ACM renews its certificate", func(t *testing.T) {
		assert.Equal(t, Expiry{}, Args{Mode: ModeALB}.Expiry())
	})
	// Dated is what alerting watches (stacks/monitoring.go), read from the
	// same parse as the outputs: each CA of a bundle by name, the CRL marked.
	t.Run("dated lists each piece by name and Secret", func(t *testing.T) {
		a := nlbArgs(t)
		a.MTLS.CACertificate = p.ClientCA + p.OtherCA
		var got []string
		for _, d := range a.Dated() {
			got = append(got, fmt.Sprintf("%s %s %s %v", d.Name, d.Secret, d.At.Format(time.RFC3339), d.CRL))
		}
		assert.Equal(t, []string{
			"edge server certificate anka-edge-tls/tls.crt " + notAfter(p.ServerCert) + " false",
			"edge client CA anka-edge-client-ca/ca.crt " + notAfter(p.ClientCA) + " false",
			"edge client CA (anka test other CA) anka-edge-client-ca/ca.crt " + notAfter(p.OtherCA) + " false",
			"edge client CRL anka-edge-client-crl/ca.crl " + crl.NextUpdate.UTC().Format(time.RFC3339) + " true",
		}, got)
		a.Nginx.ClientVerify = nginxconf.ClientVerifyOff
		a.MTLS = MTLSArgs{}
		require.Len(t, a.Dated(), 1, "without client verification only the server certificate")
	})
}
