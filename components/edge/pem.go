package edge

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
)

// Checks of inline PEM material, so a wrong paste fails the preview instead
// of crash-looping NGINX. Messages never quote the values: they are secrets.

// parseCerts returns every CERTIFICATE block of s, or an error that says
// what was found instead.
func parseCerts(s string) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := []byte(strings.TrimSpace(s))
	for len(rest) > 0 {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			if strings.Contains(block.Type, "PRIVATE KEY") {
				return nil, fmt.Errorf("holds a %s block: private keys belong in anka:edge.tls.privateKey", block.Type)
			}
			return nil, fmt.Errorf("holds a %s block where only CERTIFICATE blocks belong", block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("holds a certificate that does not parse: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
	}
	return certs, nil
}

// checkServerPair checks the server certificate chain and key: both parse,
// they belong together, the leaf covers every host name and is not expired.
func checkServerPair(p *validation.Problems, certPEM, keyPEM string, hosts ...string) {
	certs, err := parseCerts(certPEM)
	if err != nil {
		p.Addf("anka:edge.tls.certificate", "must be the PEM server certificate chain, leaf first; it %v", err)
		return
	}
	if block, _ := pem.Decode([]byte(strings.TrimSpace(keyPEM))); block == nil || !strings.Contains(block.Type, "PRIVATE KEY") {
		p.Addf("anka:edge.tls.privateKey", "must be a PEM private key (-----BEGIN PRIVATE KEY-----, RSA or EC)")
		return
	}
	if _, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM)); err != nil {
		p.Addf("anka:edge.tls.privateKey", "must be the private key of anka:edge.tls.certificate's first (leaf) certificate: %v", err)
	}
	leaf := certs[0]
	for _, h := range hosts {
		if h != "" && leaf.VerifyHostname(h) != nil {
			p.Addf("anka:edge.tls.certificate", "must cover %s: its leaf certificate names %s", h, describeNames(leaf))
		}
	}
	if now := time.Now(); now.After(leaf.NotAfter) {
		p.Addf("anka:edge.tls.certificate", "has expired: its leaf certificate was valid until %s", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
}

func describeNames(c *x509.Certificate) string {
	if len(c.DNSNames) == 0 {
		return "no DNS subject alternative name"
	}
	return strings.Join(c.DNSNames, ", ")
}

// checkCABundle checks the client CA bundle: certificates only, each a CA,
// none expired. It returns the parsed CAs ("" gives none, no problem).
func checkCABundle(p *validation.Problems, caPEM string) []*x509.Certificate {
	if caPEM == "" {
		return nil
	}
	cas, err := parseCerts(caPEM)
	if err != nil {
		p.Addf("anka:edge.mtls.caCertificate", "must be a PEM CA bundle; it %v", err)
		return nil
	}
	now := time.Now()
	for _, ca := range cas {
		if !ca.IsCA {
			p.Addf("anka:edge.mtls.caCertificate", "must hold CA certificates only (basicConstraints CA:TRUE); %q is not a CA", ca.Subject.String())
		}
		if now.After(ca.NotAfter) {
			p.Addf("anka:edge.mtls.caCertificate", "holds an expired CA %q (valid until %s)", ca.Subject.String(), ca.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	return cas
}

// Expiry is when the inline PEM material the edge deploys stops working:
// NGINX keeps serving an expired server certificate (clients refuse it),
// refuses every client once the CA has expired, and refuses every client
// once the CRL is past its nextUpdate (tested with the real binary). NGINX
// reads all three only when it starts, so a refresh is a `pulumi up` that
// rolls the pods; these dates are what alerting warns on before that is
// late. A zero time means unknown: the material comes from a Secret named
// in config (Pulumi never reads it), or there is none.
type Expiry struct {
	// TLSCertificateNotAfter is the server (leaf) certificate's notAfter.
	TLSCertificateNotAfter time.Time
	// ClientCANotAfter is the earliest notAfter in the client CA bundle.
	ClientCANotAfter time.Time
	// ClientCRLNextUpdate is the CRL's nextUpdate.
	ClientCRLNextUpdate time.Time
}

// serverCertificate is where Dated lists the server certificate: the
// Secret and key NGINX reads it from.
const serverCertificate = TLSSecretName + "/tls.crt"

// Dated is one piece of the inline PEM material the edge deploys and the
// date it stops working: what Expiry sums up for the stack outputs and
// alerting watches, read once here.
type Dated struct {
	// Name says what it is: "edge server certificate", "edge client CA"
	// (a bundle's second and later CAs add their CN), "edge client CRL".
	Name string
	// Secret is the Secret and key that hold it, e.g. anka-edge-tls/tls.crt.
	Secret string
	// At is a certificate's notAfter or a CRL's nextUpdate, in UTC.
	At time.Time
	// CRL marks the revocation list.
	CRL bool
}

// Dated lists the dates of the inline certificate (its leaf: a chain's
// intermediates are the issuer's to renew), each CA of the client bundle
// and the CRL, in modes nlb-mtls and ingress-nginx (alb's certificate is
// ACM's, renewed by AWS), the client material only while client
// verification is on. Material from a Secret named in config (Pulumi never
// reads it) is not listed, nor material that does not parse: Validate
// reports that.
func (a Args) Dated() []Dated {
	a = a.WithDefaults()
	if a.Mode != ModeNLBMTLS && a.Mode != ModeIngressNginx {
		return nil
	}
	var out []Dated
	if a.TLS.SecretName == "" {
		if certs, err := parseCerts(a.TLS.Certificate); err == nil {
			out = append(out, Dated{Name: "edge server certificate", Secret: serverCertificate, At: certs[0].NotAfter.UTC()})
		}
	}
	if !a.NginxSettings().MTLS() {
		return out
	}
	if a.MTLS.CASecretName == "" {
		if cas, err := parseCerts(a.MTLS.CACertificate); err == nil {
			for i, ca := range cas {
				name := "edge client CA"
				if i > 0 {
					name += " (" + ca.Subject.CommonName + ")"
				}
				out = append(out, Dated{Name: name, Secret: ClientCASecretName + "/" + ClientCAKey, At: ca.NotAfter.UTC()})
			}
		}
	}
	if block, _ := pem.Decode([]byte(strings.TrimSpace(a.MTLS.CRL))); block != nil && block.Type == "X509 CRL" {
		if crl, err := x509.ParseRevocationList(block.Bytes); err == nil && !crl.NextUpdate.IsZero() {
			out = append(out, Dated{Name: "edge client CRL", Secret: ClientCRLSecretName + "/" + ClientCRLKey, At: crl.NextUpdate.UTC(), CRL: true})
		}
	}
	return out
}

// Expiry sums up Dated for the stack outputs: the server certificate's
// notAfter, the earliest client CA's, and the CRL's nextUpdate.
func (a Args) Expiry() Expiry {
	var e Expiry
	for _, d := range a.Dated() {
		switch {
		case d.CRL:
			e.ClientCRLNextUpdate = d.At
		case d.Secret == serverCertificate:
			e.TLSCertificateNotAfter = d.At
		case e.ClientCANotAfter.IsZero() || d.At.Before(e.ClientCANotAfter):
			e.ClientCANotAfter = d.At
		}
	}
	return e
}

// rfc3339 is t in RFC 3339 (UTC), or "" for the zero time.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// checkCRL checks the CRL: PEM X509 CRL, not past its nextUpdate (NGINX then
// refuses every client), and signed by one of cas when they are known.
func checkCRL(p *validation.Problems, crlPEM string, cas []*x509.Certificate) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(crlPEM)))
	if block == nil || block.Type != "X509 CRL" {
		p.Addf("anka:edge.mtls.crl", "must be a PEM certificate revocation list (-----BEGIN X509 CRL-----)")
		return
	}
	crl, err := x509.ParseRevocationList(block.Bytes)
	if err != nil {
		p.Addf("anka:edge.mtls.crl", "does not parse as a CRL: %v", err)
		return
	}
	if !crl.NextUpdate.IsZero() && time.Now().After(crl.NextUpdate) {
		p.Addf("anka:edge.mtls.crl", "is past its nextUpdate (%s): NGINX would refuse every client certificate; publish a fresh CRL", crl.NextUpdate.UTC().Format(time.RFC3339))
	}
	if len(cas) == 0 {
		return
	}
	for _, ca := range cas {
		if crl.CheckSignatureFrom(ca) == nil {
			return
		}
	}
	p.Addf("anka:edge.mtls.crl", "must be signed by a CA in anka:edge.mtls.caCertificate; its issuer is %q", crl.Issuer.String())
}
