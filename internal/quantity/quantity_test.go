package quantity

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuantityParse(t *testing.T) {
	for in, want := range map[string]float64{"500m": 0.5, "2": 2, "1.5Gi": 1.5 * (1 << 30), "512Mi": 512 << 20, "1k": 1000} {
		got, err := Parse(in)
		require.NoError(t, err, in)
		assert.InDelta(t, want, got, 1e-9, in)
	}
	for _, bad := range []string{"", "2 Gi", "Gi", "-1", "1.5GB", "1e3"} {
		_, err := Parse(bad)
		assert.Error(t, err, bad)
	}
}
