package configobj

import (
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type obj struct {
	Mode  string `json:"mode"`
	Inner struct {
		Port int `json:"port"`
	} `json:"inner"`
	Namespace string `json:"-"`
}

func TestDecodeIsStrictAndNamesTheKey(t *testing.T) {
	var o obj
	require.NoError(t, Decode("anka:thing", []byte(`{"mode":"a","inner":{"port":8}}`), &o))
	assert.Equal(t, "a", o.Mode)
	assert.Equal(t, 8, o.Inner.Port)

	err := Decode("anka:thing", []byte(`{"mode":"a","inner":{"prot":8}}`), &obj{})
	require.Error(t, err)
	harness.AssertKeys(t, err, "anka:thing")
	assert.Contains(t, err.Error(), `has no setting "prot"`)

	err = Decode("anka:buildcloud", []byte(`{"namespace":"x"}`), &obj{})
	assert.Contains(t, err.Error(), `anka:buildcloud has no setting "namespace": every component's namespace is anka:namespace`)

	err = Decode("anka:thing", []byte(`{"mode":3}`), &obj{})
	assert.Contains(t, err.Error(), "anka:thing is not a well-formed object")
}
