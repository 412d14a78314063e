package buildcloud

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestBuildCloudControllerRollsWithEtcdClientTLS: the pods that run a
// Controller carry what etcd's client Secret holds, so a renewal or a
// rotation step of etcd's certificates rolls them onto the new files; a
// Registry-only pod does not roll for it, and without TLS nothing is set.
func TestBuildCloudControllerRollsWithEtcdClientTLS(t *testing.T) {
	annotation := func(a Args, deployment string) string {
		rec, _ := deploy(t, a)
		d := rec.Get(t, tDeployment, deployment)
		return strMap(path(d.Inputs, "spec", "template", "metadata", "annotations"))[EtcdClientTLSAnnotation]
	}
	const v1, v2 = "certificates 1; trusted 1 from 2026-11-30", "certificates 1; trusted 1,2 from 2026-11-30"
	for _, topology := range []string{TopologyCombined, TopologySplit} {
		a := wired(EnvDev)
		a.Topology = topology
		a.EtcdClientTLSVersion = v1
		controller := map[string]string{TopologyCombined: "bc-controller-registry", TopologySplit: "bc-controller"}[topology]
		assert.Equal(t, v1, annotation(a, controller), topology)
		a.EtcdClientTLSVersion = v2
		assert.Equal(t, v2, annotation(a, controller), "%s: a rotation step changes the Controller's pod template", topology)
		if topology == TopologySplit {
			assert.Empty(t, annotation(a, "bc-registry"), "the Registry reads no etcd certificate")
		}
		a.EtcdClientTLSSecret = ""
		assert.Empty(t, annotation(a, controller), "%s: no etcd TLS, nothing to roll for", topology)
	}
}
