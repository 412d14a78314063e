package nginxconf_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/anka-ha/anka-build-cloud-aws/components/edge/nginxconf"
)

func TestIngressNginxAnnotationsWithDefaults(t *testing.T) {
	assert.Equal(t, map[string]string{
		"nginx.ingress.kubernetes.io/proxy-body-size":                       "0",
		"nginx.ingress.kubernetes.io/proxy-max-temp-file-size":              "0",
		"nginx.ingress.kubernetes.io/proxy-buffering":                       "off",
		"nginx.ingress.kubernetes.io/proxy-request-buffering":               "off",
		"nginx.ingress.kubernetes.io/proxy-http-version":                    "1.1",
		"nginx.ingress.kubernetes.io/proxy-read-timeout":                    "3600",
		"nginx.ingress.kubernetes.io/proxy-send-timeout":                    "3600",
		"nginx.ingress.kubernetes.io/auth-tls-verify-client":                "on",
		"nginx.ingress.kubernetes.io/auth-tls-secret":                       "anka/anka-edge-client-ca",
		"nginx.ingress.kubernetes.io/auth-tls-verify-depth":                 "1",
		"nginx.ingress.kubernetes.io/auth-tls-pass-certificate-to-upstream": "true",
	}, nginxconf.IngressNginxAnnotations(minimal()))
}

func TestIngressNginxAnnotationsFollowTheSameSettingsAsRender(t *testing.T) {
	cases := []struct {
		name       string
		annotation string
		directive  string // in http {} of the rendered config
	}{
		{"proxy-read-timeout follows proxyReadTimeoutSeconds", "proxy-read-timeout", "proxy_read_timeout"},
		{"proxy-send-timeout follows proxySendTimeoutSeconds", "proxy-send-timeout", "proxy_send_timeout"},
		{"auth-tls-verify-client follows clientVerify", "auth-tls-verify-client", "ssl_verify_client"},
		{"auth-tls-verify-depth follows clientVerifyDepth", "auth-tls-verify-depth", "ssl_verify_depth"},
		{"proxy-http-version matches proxy_http_version", "proxy-http-version", "proxy_http_version"},
		{"proxy-buffering matches proxy_buffering", "proxy-buffering", "proxy_buffering"},
		{"proxy-request-buffering matches proxy_request_buffering", "proxy-request-buffering", "proxy_request_buffering"},
		{"proxy-max-temp-file-size matches proxy_max_temp_file_size", "proxy-max-temp-file-size", "proxy_max_temp_file_size"},
		{"proxy-body-size matches client_max_body_size", "proxy-body-size", "client_max_body_size"},
	}
	s := custom()
	a := nginxconf.IngressNginxAnnotations(s)
	_, root := render(t, s)
	http := root.one(t, "http")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := a[nginxconf.IngressAnnotationPrefix+tc.annotation]
			require.True(t, ok, "annotation %s present", tc.annotation)
			assert.Equal(t, strings.TrimSuffix(http.arg(t, tc.directive), "s"), got)
		})
	}
	assert.Equal(t, "ci/client-ca", a["nginx.ingress.kubernetes.io/auth-tls-secret"], "from ingressAuthTLSSecret")
}

func TestIngressNginxAnnotationsWithoutMTLSHaveNoAuthTLS(t *testing.T) {
	s := minimal()
	s.ClientVerify = nginxconf.ClientVerifyOff
	for k := range nginxconf.IngressNginxAnnotations(s) {
		assert.NotContains(t, k, "auth-tls", "mTLS off: %s", k)
	}
	assert.Len(t, nginxconf.IngressNginxAnnotations(s), 7, "the large-transfer annotations stay")
}
