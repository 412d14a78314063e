package edge

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEdgeNginxSecretsAre0400: the server pair, the client CA and the CRL
// are mounted owner-read only (0400, 256); the pod's fsGroup (the nginx
// group, 101) is what lets the non-root NGINX read them (the kubelet makes
// them 0440, group fsGroup). The nginx.conf ConfigMap is no secret and
// stays group-readable.
func TestEdgeNginxSecretsAre0400(t *testing.T) {
	rec, _ := run(t, nlbArgs(t))
	pod := at(t, obj(rec.Get(t, typeDeployment, "edge-nginx")), "spec", "template", "spec")
	require.Equal(t, float64(NginxUID), at(t, pod, "securityContext", "fsGroup").NumberValue())
	secrets := 0
	for _, vol := range at(t, pod, "volumes").ArrayValue() {
		s, ok := vol.ObjectValue()["secret"]
		if !ok {
			continue
		}
		secrets++
		assert.Equal(t, 256.0, at(t, s, "defaultMode").NumberValue(), at(t, vol, "name").StringValue())
	}
	assert.Equal(t, 3, secrets, "tls, client-ca, client-crl")
}
