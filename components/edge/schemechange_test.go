package edge

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSchemeChangeWarning(t *testing.T) {
	w := SchemeChangeWarning(SchemeInternal, SchemeInternetFacing, "NLB", "service -n anka anka-edge-nginx")
	for _, want := range []string{SchemeKey, "internal -> internet-facing", "deletes the NLB", "new DNS name", "pushes in flight", "kubectl get service -n anka anka-edge-nginx", "loadBalancerHostname"} {
		assert.Contains(t, w, want)
	}
	assert.Empty(t, SchemeChangeWarning(SchemeInternal, SchemeInternal, "NLB", "x"), "no change")
	assert.Empty(t, SchemeChangeWarning("", SchemeInternal, "ALB", "x"), "first deployment: no old object")
	assert.Empty(t, SchemeChangeWarning(SchemeInternal, "", "ALB", "x"), "new scheme unknown")
}
