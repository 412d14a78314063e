package edge

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/testca"
	"github.com/stretchr/testify/require"
)

// testPKI is what the tests (and the local stack, the same way) feed the
// edge: a server certificate for both host names from one CA, and a client
// CA with a CRL.
type testPKI struct {
	ServerCert, ServerKey string // PEM
	ClientCA, CRL         string // PEM
	OtherCA               string // a CA that did not sign the CRL
}

func newTestPKI(t testing.TB, hosts ...string) testPKI {
	t.Helper()
	now := time.Now()
	newCA := func(cn string) *testca.CA {
		ca, err := testca.New(cn, now.Add(-time.Hour), now.Add(24*time.Hour))
		require.NoError(t, err)
		return ca
	}
	server, err := newCA("anka test server CA").Issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: hosts[0]},
		DNSNames:    hosts,
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	require.NoError(t, err)
	clientCA := newCA("anka test client CA")
	crl, err := clientCA.CRL(big.NewInt(1), now.Add(-time.Hour), now.Add(24*time.Hour), big.NewInt(99))
	require.NoError(t, err)
	return testPKI{
		ServerCert: server.CertPEM,
		ServerKey:  server.KeyPEM,
		ClientCA:   clientCA.CertPEM,
		CRL:        crl.PEM,
		OtherCA:    newCA("anka test other CA").CertPEM,
	}
}
