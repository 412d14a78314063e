package realproc

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// ClientTLS is the TLS configuration of every test client that verifies a
// server and may present a client certificate: it trusts rootsPEM, expects
// the server's certificate to name serverName (the host dialed when empty),
// and presents certPEM/keyPEM on every handshake (none when certPEM is
// empty). It presents the certificate even when the server does not list its
// issuer as acceptable (with tls.Config.Certificates Go's client would then
// send none), as an attacker would: a refusal is the server's, never the
// client's own choice.
func ClientTLS(serverName, rootsPEM, certPEM, keyPEM string) (*tls.Config, error) {
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(rootsPEM)) {
		return nil, errors.New("realproc: no certificate in the roots PEM")
	}
	cfg := &tls.Config{RootCAs: roots, ServerName: serverName, MinVersion: tls.VersionTLS12}
	if certPEM != "" {
		pair, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
		if err != nil {
			return nil, fmt.Errorf("realproc: client certificate: %w", err)
		}
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }
	}
	return cfg, nil
}

// MTLSClient is an HTTPS client for a process on loopback whose
// certificate names localhost (the real etcd members), with ClientTLS's
// configuration.
func MTLSClient(timeout time.Duration, rootsPEM, certPEM, keyPEM string) (*http.Client, error) {
	cfg, err := ClientTLS("localhost", rootsPEM, certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: cfg}}, nil
}

// Gateway writes and reads keys through etcd's HTTP/JSON gateway
// (/v3/kv/*), so the tests need no etcd client library. Keys and values
// travel base64-encoded, as the gateway's JSON mapping of bytes fields
// wants.
type Gateway struct{ Client *http.Client }

// Call posts body as JSON to endpoint+path and returns the decoded reply.
// A status other than 200, or a reply that carries an error, is an error
// holding etcd's message (e.g. "etcdserver: mvcc: database space exceeded").
func (g Gateway) Call(endpoint, path string, body any) (map[string]any, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	c := g.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Post(endpoint+path, "application/json", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: HTTP %d: %w", path, resp.StatusCode, err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s: HTTP %d: %s", path, resp.StatusCode, data)
	}
	if resp.StatusCode != http.StatusOK || out["error"] != nil || out["message"] != nil {
		return out, fmt.Errorf("%s: HTTP %d: %v%v", path, resp.StatusCode, out["error"], out["message"])
	}
	return out, nil
}

// Put writes key = value.
func (g Gateway) Put(endpoint, key string, value []byte) error {
	_, err := g.Call(endpoint, "/v3/kv/put", map[string]string{"key": b64(key), "value": base64.StdEncoding.EncodeToString(value)})
	return err
}

// Range reads key; the reply holds "kvs" when it exists.
func (g Gateway) Range(endpoint, key string) (map[string]any, error) {
	return g.Call(endpoint, "/v3/kv/range", map[string]string{"key": b64(key)})
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
