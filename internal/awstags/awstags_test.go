package awstags

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
)

func TestMergeLaterMapsWin(t *testing.T) {
	got := Merge(map[string]string{"Name": "a", "env": "dev"}, nil, map[string]string{"Name": "b"})
	assert.Equal(t, pulumi.StringMap{"Name": pulumi.String("b"), "env": pulumi.String("dev")}, got)
	assert.Equal(t, pulumi.StringMap{}, Merge())
}
