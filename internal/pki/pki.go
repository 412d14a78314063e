// Package pki derives the etcd cluster's certificates from one stack secret.
//
// Pulumi runs the program on every preview; certificates generated with fresh
// randomness would differ each time, so `pulumi preview` would never be empty
// and `pulumi up` would rotate etcd's keys (restarting every member). Here all
// keys are Ed25519 keys derived from the seed with HMAC-SHA256, and Ed25519
// signatures are deterministic, so the same seed and names always give
// byte-identical PEM.
package pki

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Validity of every certificate: fixed dates keep the output stable. Rotate
// by changing the seed (see the etcd README's rotation procedure).
var (
	NotBefore = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	NotAfter  = time.Date(2046, 1, 1, 0, 0, 0, 0, time.UTC)
)

// MinSeedLen is the shortest seed accepted (32 bytes of entropy as 64 hex
// characters from `openssl rand -hex 32`).
const MinSeedLen = 32

// ErrShortSeed is returned for seeds shorter than MinSeedLen.
var ErrShortSeed = errors.New("seed too short")

// EtcdBundle is the PEM material of one etcd cluster: a CA, a server
// certificate for the client URLs, a peer certificate, and a client
// certificate for etcdctl, backups and the Build Cloud Controller.
type EtcdBundle struct {
	CACert     string
	ServerCert string
	ServerKey  string
	PeerCert   string
	PeerKey    string
	ClientCert string
	ClientKey  string
}

// Files maps the bundle to the file names the etcd pods and the Controller
// mount (the keys of the Kubernetes Secret).
func (b EtcdBundle) Files() map[string]string {
	return map[string]string{
		"ca.crt": b.CACert, "server.crt": b.ServerCert, "server.key": b.ServerKey,
		"peer.crt": b.PeerCert, "peer.key": b.PeerKey, "client.crt": b.ClientCert, "client.key": b.ClientKey,
	}
}

// ClientFiles is the subset a client (the Controller) needs.
func (b EtcdBundle) ClientFiles() map[string]string {
	return map[string]string{"ca.crt": b.CACert, "client.crt": b.ClientCert, "client.key": b.ClientKey}
}

type derivation struct{ seed []byte }

func (d derivation) key(label string) ed25519.PrivateKey {
	mac := hmac.New(sha256.New, d.seed)
	mac.Write([]byte("anka-etcd-pki/" + label))
	return ed25519.NewKeyFromSeed(mac.Sum(nil))
}

func (d derivation) serial(label string) *big.Int {
	mac := hmac.New(sha256.New, d.seed)
	mac.Write([]byte("anka-etcd-serial/" + label))
	sum := mac.Sum(nil)
	return new(big.Int).SetBytes(sum[:16])
}

// NewEtcdBundle derives the bundle. dnsNames go on the server and peer
// certificates (wildcards for the headless Service are fine); 127.0.0.1 and
// localhost are always added so in-pod tools can reach the local member.
func NewEtcdBundle(seed []byte, clusterName string, dnsNames []string) (EtcdBundle, error) {
	if len(seed) < MinSeedLen {
		return EtcdBundle{}, fmt.Errorf("%w: need at least %d bytes, got %d", ErrShortSeed, MinSeedLen, len(seed))
	}
	d := derivation{seed: seed}
	caKey := d.key("ca")
	caTmpl := &x509.Certificate{
		SerialNumber:          d.serial("ca"),
		Subject:               pkix.Name{CommonName: clusterName + " etcd CA", Organization: []string{"anka-build-cloud"}},
		NotBefore:             NotBefore,
		NotAfter:              NotAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(nil, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return EtcdBundle{}, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return EtcdBundle{}, err
	}
	names := append([]string{"localhost"}, dnsNames...)
	ips := []net.IP{net.ParseIP("127.0.0.1")}
	leaf := func(label, cn string, usages []x509.ExtKeyUsage, withNames bool) (string, string, error) {
		key := d.key(label)
		tmpl := &x509.Certificate{
			SerialNumber: d.serial(label),
			Subject:      pkix.Name{CommonName: cn, Organization: []string{"anka-build-cloud"}},
			NotBefore:    NotBefore,
			NotAfter:     NotAfter,
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  usages,
		}
		if withNames {
			tmpl.DNSNames = names
			tmpl.IPAddresses = ips
		}
		der, err := x509.CreateCertificate(nil, tmpl, ca, key.Public(), caKey)
		if err != nil {
			return "", "", err
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return "", "", err
		}
		return encode("CERTIFICATE", der), encode("PRIVATE KEY", keyDER), nil
	}
	var b EtcdBundle
	b.CACert = encode("CERTIFICATE", caDER)
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	if b.ServerCert, b.ServerKey, err = leaf("server", clusterName+" etcd server", both, true); err != nil {
		return EtcdBundle{}, err
	}
	if b.PeerCert, b.PeerKey, err = leaf("peer", clusterName+" etcd peer", both, true); err != nil {
		return EtcdBundle{}, err
	}
	if b.ClientCert, b.ClientKey, err = leaf("client", "anka-etcd-client", []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, false); err != nil {
		return EtcdBundle{}, err
	}
	return b, nil
}

func encode(kind string, der []byte) string {
	var buf bytes.Buffer
	_ = pem.Encode(&buf, &pem.Block{Type: kind, Bytes: der})
	return buf.String()
}
