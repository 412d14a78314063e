package etcd

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/components/etcd/member"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEtcdGenerationChangeNeedsTrustFirst: a deployed stack may move its
// certificates only to a generation its members already trust (rotation
// step 1 before step 2); the value compared is what each rotation step's
// config writes on the StatefulSet.
func TestEtcdGenerationChangeNeedsTrustFirst(t *testing.T) {
	state := func(gen, rotateFrom int) string {
		a := prodArgs()
		a.TLS.Generation, a.TLS.RotateFrom = gen, rotateFrom
		return a.tlsGenerations()
	}
	require.Equal(t, "certificates 1; trusted 1", state(1, 0))
	require.Equal(t, "certificates 1; trusted 1,2", state(1, 1))
	require.Equal(t, "certificates 2; trusted 1,2", state(2, 1))

	for _, tc := range []struct {
		name              string
		deployed, planned string
		refused           bool
	}{
		{"no change", state(1, 0), state(1, 0), false},
		{"step 1: trust both", state(1, 0), state(1, 1), false},
		{"step 2: certificates from the new generation", state(1, 1), state(2, 1), false},
		{"step 3: drop the old generation", state(2, 1), state(2, 0), false},
		{"steps 2 and 3 at once", state(1, 1), state(2, 0), false},
		{"step 1 skipped", state(1, 0), state(2, 0), true},
		{"steps 1 and 2 at once", state(1, 0), state(2, 1), true},
		{"first deployment", "", state(3, 0), false},
		{"TLS turned off", state(1, 0), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := GenerationChangeError(tc.deployed, tc.planned)
			if !tc.refused {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "anka:etcd.tls.generation cannot become 2 yet")
			assert.Contains(t, err.Error(), "pulumi config set --path anka:etcd.tls.rotateFrom 1")
		})
	}
}

// TestEtcdMembersNameTheirConfigAndSecretsByConstant: the pods name the
// scripts ConfigMap and the TLS Secrets by their constant names and depend
// on them, so a content change (an upgrade's new member.sh, a certificate
// change), which pulumi-kubernetes makes a delete-before-replace of the
// fixed-name object, updates the StatefulSet instead of replacing it; and the
// script's hash on the pod template rolls the members onto a new script.
func TestEtcdMembersNameTheirConfigAndSecretsByConstant(t *testing.T) {
	rec, err := run(t, prodArgs())
	require.NoError(t, err)
	sts := rec.Get(t, "kubernetes:apps/v1:StatefulSet", "etcd-members")
	in := resource.NewObjectProperty(sts.Inputs)
	names := map[string]string{}
	for _, v := range obj(in, "spec", "template", "spec", "volumes").ArrayValue() {
		if cm := obj(v, "configMap"); cm.IsObject() {
			names["configMap"] = obj(cm, "name").StringValue()
		}
		if sec := obj(v, "secret"); sec.IsObject() {
			names["secret"] = obj(sec, "secretName").StringValue()
		}
	}
	assert.Equal(t, map[string]string{"configMap": ScriptsConfigMapName, "secret": TLSSecretName}, names)
	for _, dep := range []string{"kubernetes:core/v1:ConfigMap::etcd-scripts", "kubernetes:core/v1:Secret::etcd-tls"} {
		assert.True(t, slices.ContainsFunc(sts.DependsOn, func(u string) bool { return strings.HasSuffix(u, dep) }), "the StatefulSet depends on %s: %v", dep, sts.DependsOn)
	}
	sum := sha256.Sum256([]byte(member.Script))
	assert.Equal(t, hex.EncodeToString(sum[:8]), obj(in, "spec", "template", "metadata", "annotations", ScriptsAnnotation).StringValue())
}
