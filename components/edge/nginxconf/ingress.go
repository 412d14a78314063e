package nginxconf

import "strconv"

// IngressAnnotationPrefix is the community ingress-nginx controller's
// annotation namespace.
const IngressAnnotationPrefix = "nginx.ingress.kubernetes.io/"

// IngressNginxAnnotations returns the Ingress annotations that give users of
// the (retired) community ingress-nginx controller the same large-transfer
// and mTLS behaviour as Render, from the same Settings fields (defaults
// filled in; validate with Validate first).
//
// Caveats, which annotations cannot fix: client_body_timeout,
// keepalive_timeout and send_timeout are controller-wide ConfigMap settings
// there, not annotations; with mTLS off ingress-nginx does not overwrite a
// client-sent Ssl-Client-Verify header, so the Controller/Registry must not
// run with ANKA_ENABLE_INGRESS_NGINX=true behind it; and its header for the
// subject DN is fixed (ssl-client-subject-dn), not SubjectHeader.
func IngressNginxAnnotations(s Settings) map[string]string {
	s = s.WithDefaults()
	a := map[string]string{
		"proxy-body-size":          "0",
		"proxy-max-temp-file-size": "0",
		"proxy-buffering":          "off",
		"proxy-request-buffering":  "off",
		"proxy-http-version":       "1.1",
		"proxy-read-timeout":       strconv.Itoa(s.ProxyReadTimeoutSeconds),
		"proxy-send-timeout":       strconv.Itoa(s.ProxySendTimeoutSeconds),
	}
	if s.ClientVerify != ClientVerifyOff {
		a["auth-tls-verify-client"] = s.ClientVerify
		a["auth-tls-secret"] = s.IngressAuthTLSSecret
		a["auth-tls-verify-depth"] = strconv.Itoa(s.ClientVerifyDepth)
		a["auth-tls-pass-certificate-to-upstream"] = "true"
	}
	out := make(map[string]string, len(a))
	for k, v := range a {
		out[IngressAnnotationPrefix+k] = v
	}
	return out
}
