// Package nginxconf renders the nginx.conf of the Anka Build Cloud edge: the
// NGINX that sits behind an AWS NLB TCP listener, terminates TLS, verifies
// client certificates (mTLS) and proxies to the Controller (port 80) and the
// Registry (port 8089).
//
// The package is pure Go with no Pulumi imports, so the config can be rendered,
// validated and tested (also against a real nginx binary) without an engine.
//
// Usage:
//
//	s := nginxconf.Settings{
//		ControllerHostname: "anka.example.com",
//		RegistryHostname:   "anka-registry.example.com",
//		TLSCertFile:        "/etc/nginx/tls/tls.crt",
//		TLSKeyFile:         "/etc/nginx/tls/tls.key",
//		ClientCAFile:       "/etc/nginx/client-ca/ca.crt",
//	}
//	conf, err := nginxconf.Render(s) // defaults filled in, then validated
//	annotations := nginxconf.IngressNginxAnnotations(s)
//
// What the rendered config guarantees:
//
//   - Large transfers stream: no body size limit, no request or response
//     buffering, no temp files, HTTP/1.1 keepalive to the upstreams, and
//     transfer timeouts long enough for multi-hour template pushes (floor
//     900 s); keep-alive, which cannot cut a transfer, stays short (75 s).
//   - Identity headers are NGINX's alone (ProxyHeaders): Ssl-Client-Verify,
//     Ssl-Client-Cert, Ssl-Client-Subject-Dn, Ssl-Client-Issuer-Dn, the
//     subject header, X-Real-Ip and X-Forwarded-* are set on every proxied
//     request and Forwarded and X-Original-Forwarded-For blanked, replacing
//     whatever the client sent under any letter case, and header names with
//     underscores are dropped (the Controller and Registry trust these
//     headers without checking the certificate themselves).
//   - TLS 1.2 only with ECDHE and AEAD (Mozilla "intermediate"), and a
//     client chain of at most one CA below the trust anchor by default.
//   - A plain-HTTP /healthz for the NLB and kubelet probes that never reaches
//     an upstream.
//   - Every writable path (pid, logs, temp dirs) is configurable, so NGINX runs
//     as a non-root user on a read-only root file system.
package nginxconf
