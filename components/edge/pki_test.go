package edge

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testPKI is what the tests (and the local stack, the same way) feed the
// edge: a server certificate for both host names from one CA, and a client
// CA with a CRL. Generated with Go's crypto, ECDSA P-256 for speed.
type testPKI struct {
	ServerCert, ServerKey string // PEM
	ClientCA, CRL         string // PEM
	OtherCA               string // a CA that did not sign the CRL
}

func pemOf(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func newCA(t testing.TB, cn string) (*x509.Certificate, *ecdsa.PrivateKey, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert, key, pemOf("CERTIFICATE", der)
}

func newTestPKI(t testing.TB, hosts ...string) testPKI {
	t.Helper()
	serverCA, serverCAKey, _ := newCA(t, "anka test server CA")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: hosts[0]},
		DNSNames:     hosts,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, serverCA, &key.PublicKey, serverCAKey)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)

	clientCA, clientCAKey, clientCAPEM := newCA(t, "anka test client CA")
	crlDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:     big.NewInt(1),
		ThisUpdate: time.Now().Add(-time.Hour),
		NextUpdate: time.Now().Add(24 * time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{
			{SerialNumber: big.NewInt(99), RevocationTime: time.Now().Add(-time.Minute)},
		},
	}, clientCA, clientCAKey)
	require.NoError(t, err)
	_, _, otherCAPEM := newCA(t, "anka test other CA")
	return testPKI{
		ServerCert: pemOf("CERTIFICATE", der),
		ServerKey:  pemOf("PRIVATE KEY", keyDER),
		ClientCA:   clientCAPEM,
		CRL:        pemOf("X509 CRL", crlDER),
		OtherCA:    otherCAPEM,
	}
}
