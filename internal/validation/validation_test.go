package validation

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProblemsCollectsEveryKeyInOrder(t *testing.T) {
	var p Problems
	p.Addf("anka:etcd.replicas", "must be odd and at least 3, got %d", 2)
	p.OneOf("anka:edge.mode", "elb", "alb", "nlb-mtls")
	p.CIDR("anka:network.cidr", "10.0.0.1/16")
	p.Between("anka:storage.etcd.iops", 100, 3000, 16000, "")
	p.URL("anka:registry.externalUrl", "registry.example.com")
	err := p.Err()
	require.Error(t, err)
	assert.Equal(t, []string{"anka:etcd.replicas", "anka:edge.mode", "anka:network.cidr", "anka:storage.etcd.iops", "anka:registry.externalUrl"}, Keys(err))
	assert.Contains(t, err.Error(), "anka:etcd.replicas must be odd and at least 3, got 2")
	assert.Contains(t, err.Error(), "did you mean 10.0.0.0/16")
}

func TestProblemsEmptyIsNil(t *testing.T) {
	var p Problems
	assert.True(t, p.OneOf("k", "a", "a", "b"))
	_, ok := p.CIDR("k", "10.40.0.0/16")
	assert.True(t, ok)
	assert.True(t, p.URL("k", "https://x.example.com:8089"))
	assert.NoError(t, p.Err())
}

func TestProblemsMergeFlattensJoinedErrors(t *testing.T) {
	var inner, outer Problems
	inner.Addf("a", "x")
	inner.Addf("b", "y")
	outer.Merge(inner.Err())
	outer.Addf("c", "z")
	assert.Equal(t, []string{"a", "b", "c"}, Keys(outer.Err()))
}

func TestProblemsMergeMessagesFindsTheKey(t *testing.T) {
	var p Problems
	p.MergeMessages(errors.Join(
		fmt.Errorf("%w: anka:etcd.replicas must be odd, got 4", errors.New("invalid replica count")),
		errors.New("no key here"),
	))
	err := p.Err()
	assert.Equal(t, []string{"anka:etcd.replicas"}, Keys(err))
	assert.Contains(t, err.Error(), "anka:etcd.replicas must be odd, got 4")
	assert.Contains(t, err.Error(), "no key here")
}
