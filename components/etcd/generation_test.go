package etcd

import (
	"testing"

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
