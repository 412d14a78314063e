package integration

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/testca"
)

// Secrets are what a user sets with `pulumi config set --secret` and the
// local stack file cannot carry: generated once, so repeated runs (and the
// second preview) see the same values.
type Secrets struct {
	// Passphrase of the file backend's secrets provider.
	Passphrase string `json:"passphrase"`
	// EtcdTLSSeed is anka:etcdTlsSeed.
	EtcdTLSSeed string `json:"etcdTlsSeed"`
	// EtcdTLSNotBefore is anka:etcd.tls.notBefore (not a secret, but a date
	// a checked-in stack file cannot keep valid): the day the state was
	// made, renewed (as docs/operations.md "Renewing etcd's certificates"
	// does) once it is RenewEtcdTLSAfter old.
	EtcdTLSNotBefore string `json:"etcdTlsNotBefore"`
	// RootToken is anka:buildcloud.rootToken (required with nlb-mtls: the
	// Build Cloud's certificate auth needs ANKA_ENABLE_AUTH).
	RootToken string `json:"rootToken"`
	// Hosts the edge certificate covers (controller, registry).
	Hosts []string `json:"hosts"`
	// EdgeCA is anka:edge.mtls.caCertificate: the CA client certificates
	// chain to; it also signed the server certificate.
	EdgeCA    string `json:"edgeCa"`
	EdgeCAKey string `json:"edgeCaKey"`
	// EdgeCert and EdgeKey are anka:edge.tls.certificate / privateKey.
	EdgeCert string `json:"edgeCert"`
	EdgeKey  string `json:"edgeKey"`
	// ClientCert and ClientKey: a client certificate from EdgeCA, for a
	// user who points curl at a real NGINX (not used by the tests).
	ClientCert string `json:"clientCert"`
	ClientKey  string `json:"clientKey"`
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// NewSecrets generates fresh secrets with an edge PKI for hosts.
func NewSecrets(hosts []string) (*Secrets, error) {
	s := &Secrets{Passphrase: randomHex(16), EtcdTLSSeed: randomHex(32), EtcdTLSNotBefore: today(), RootToken: "anka-local-" + randomHex(12)}
	return s, s.newPKI(hosts)
}

// RenewEtcdTLSAfter: a kept state's etcd certificates are renewed from
// today once their date is this old, well before they expire (397 days,
// internal/pki) or the preview warns (30 days before).
const RenewEtcdTLSAfter = 300 * 24 * time.Hour

func today() string { return time.Now().UTC().Format(time.DateOnly) }

// renewEtcdTLS sets EtcdTLSNotBefore to today when it is unset (a state
// from before the date was kept) or due, and says whether it changed.
func (s *Secrets) renewEtcdTLS() bool {
	if d, err := time.Parse(time.DateOnly, s.EtcdTLSNotBefore); err == nil && time.Since(d) < RenewEtcdTLSAfter {
		return false
	}
	s.EtcdTLSNotBefore = today()
	return true
}

// LoadOrCreateSecrets reads path, or generates and writes it (0600). An
// edge PKI that does not cover hosts (the stack file's host names changed)
// is made anew; everything else is kept.
func LoadOrCreateSecrets(path string, hosts []string) (*Secrets, error) {
	var s Secrets
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		fresh, err := NewSecrets(hosts)
		if err != nil {
			return nil, err
		}
		return fresh, fresh.save(path)
	case err != nil:
		return nil, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w (delete it to start over)", path, err)
	}
	if s.Passphrase == "" || s.EtcdTLSSeed == "" || s.RootToken == "" {
		return nil, fmt.Errorf("%s lacks a passphrase, seed or token (delete the state dir to start over)", path)
	}
	changed := s.renewEtcdTLS()
	if !slices.Equal(s.Hosts, hosts) || s.EdgeCert == "" {
		if err := s.newPKI(hosts); err != nil {
			return nil, err
		}
		changed = true
	}
	if changed {
		return &s, s.save(path)
	}
	return &s, nil
}

func (s *Secrets) save(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// newPKI makes an ECDSA P-256 CA, a server certificate for hosts and a
// client certificate, valid for ten years.
func (s *Secrets) newPKI(hosts []string) error {
	var names []string
	for _, h := range hosts {
		if h != "" {
			names = append(names, h)
		}
	}
	if len(names) == 0 { // no edge host names in the stack file: any name will do
		names = []string{"anka.local.test"}
	}
	now := time.Now().Add(-time.Hour).Truncate(time.Hour)
	ca, err := testca.NewFrom(&x509.Certificate{
		Subject: pkix.Name{CommonName: "anka-local edge CA"}, NotBefore: now, NotAfter: now.AddDate(10, 0, 0),
		MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	})
	if err != nil {
		return err
	}
	leaf := func(cn string, dns []string, usage x509.ExtKeyUsage) (*testca.KeyPair, error) {
		return ca.Issue(&x509.Certificate{
			Subject: pkix.Name{CommonName: cn}, DNSNames: dns, NotBefore: now, NotAfter: now.AddDate(10, 0, 0),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		})
	}
	server, err := leaf(names[0], names, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return err
	}
	client, err := leaf("anka-local-admin", nil, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return err
	}
	s.Hosts = slices.Clone(hosts)
	s.EdgeCA, s.EdgeCAKey = ca.CertPEM, ca.KeyPEM
	s.EdgeCert, s.EdgeKey = server.CertPEM, server.KeyPEM
	s.ClientCert, s.ClientKey = client.CertPEM, client.KeyPEM
	return nil
}
