package capacity

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func byPodName(pods []SystemPod) map[string]SystemPod {
	m := map[string]SystemPod{}
	for _, p := range pods {
		m[p.Name] = p
	}
	return m
}

func TestEKSSystemPods(t *testing.T) {
	without := EKSSystemPods(false)
	with := EKSSystemPods(true)
	require.Len(t, without, 5)
	require.Len(t, with, 6)
	assert.NotContains(t, byPodName(without), "aws-load-balancer-controller")

	pods := byPodName(with)
	tests := []struct {
		name     string
		requests Resources
		perNode  bool
		replicas int
	}{
		// aws-node 25m + aws-eks-nodeagent 25m; no memory requests.
		{"aws-node", Resources{MilliCPU: 50, Pods: 1}, true, 0},
		{"kube-proxy", Resources{MilliCPU: 100, Pods: 1}, true, 0},
		// ebs-plugin 10m/40Mi + node-driver-registrar 10m/32Mi + liveness-probe 10m/32Mi.
		{"ebs-csi-node", Resources{MilliCPU: 30, MemoryMiB: 104, Pods: 1}, true, 0},
		{"coredns", Resources{MilliCPU: 100, MemoryMiB: 70, Pods: 1}, false, 2},
		// 5 containers at 10m/40Mi + liveness-probe 10m/32Mi = 60m, 232Mi.
		{"ebs-csi-controller", Resources{MilliCPU: 60, MemoryMiB: 232, Pods: 1}, false, 2},
		// Chart 3.5.0 resources {}: a pod slot only.
		{"aws-load-balancer-controller", Resources{Pods: 1}, false, 2},
	}
	for _, tc := range tests {
		p, ok := pods[tc.name]
		if !assert.True(t, ok, tc.name) {
			continue
		}
		assert.Equal(t, tc.requests, p.Requests, tc.name)
		assert.Equal(t, tc.perNode, p.PerNode, tc.name)
		assert.Equal(t, tc.replicas, p.Replicas, tc.name)
	}
}

func TestEKSSystemPodsConsistent(t *testing.T) {
	for _, p := range EKSSystemPods(true) {
		assert.NotEmpty(t, p.Name)
		assert.NotEmpty(t, p.Source, p.Name)
		assert.EqualValues(t, 1, p.Requests.Pods, p.Name)
		assert.GreaterOrEqual(t, p.Requests.MilliCPU, int64(0), p.Name)
		assert.GreaterOrEqual(t, p.Requests.MemoryMiB, int64(0), p.Name)
		if p.PerNode {
			assert.Zero(t, p.Replicas, p.Name)
		} else {
			assert.Positive(t, p.Replicas, p.Name)
		}
	}
}

// TestSystemPodsOnSmallestNode sums what the DaemonSets take from every node
// and checks that the smallest table entry still has room after them and
// after the Deployments' pods (as if all landed on one node).
func TestSystemPodsOnSmallestNode(t *testing.T) {
	var perNode, deployments Resources
	for _, p := range EKSSystemPods(true) {
		if p.PerNode {
			perNode = perNode.Add(p.Requests)
			continue
		}
		for range p.Replicas {
			deployments = deployments.Add(p.Requests)
		}
	}
	// 50 + 100 + 30 = 180m; 104Mi; 3 pods.
	assert.Equal(t, Resources{MilliCPU: 180, MemoryMiB: 104, Pods: 3}, perNode)
	// 2*(100m,70Mi) + 2*(60m,232Mi) + 2*(0,0) = 320m, 604Mi, 6 pods.
	assert.Equal(t, Resources{MilliCPU: 320, MemoryMiB: 604, Pods: 6}, deployments)

	t3, ok := Lookup("t3.medium")
	require.True(t, ok)
	// 1930m, 3246Mi, 17 pods allocatable.
	assert.True(t, perNode.Add(deployments).Fits(t3.Allocatable()))
}

func TestEKSSystemPodsFreshSlice(t *testing.T) {
	a := EKSSystemPods(true)
	a[0].Requests.MilliCPU = 999999
	assert.NotEqual(t, int64(999999), EKSSystemPods(true)[0].Requests.MilliCPU)
}
