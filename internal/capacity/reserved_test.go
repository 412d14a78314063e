package capacity

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKubeReservedCPUSchedule checks the CPU bands at their edges, including
// vCPU counts outside the table.
func TestKubeReservedCPUSchedule(t *testing.T) {
	for vcpu, want := range map[int]int64{
		1:  60,                 // 6% of 1000
		2:  60 + 10,            // + 1% of the second core
		3:  60 + 10 + 5,        // + 0.5% of 1000
		4:  60 + 10 + 10,       // + 0.5% of 2000
		5:  60 + 10 + 10 + 2,   // + 0.25% of 1000 = 2.5, truncated
		48: 60 + 10 + 10 + 110, // + 0.25% of 44000
	} {
		got := InstanceType{VCPU: vcpu}.KubeReserved().MilliCPU
		assert.Equal(t, want, got, "%d vCPU", vcpu)
	}
}

// TestMaxPodsCap checks the managed node group cap on either side of 30 vCPUs.
func TestMaxPodsCap(t *testing.T) {
	big := InstanceType{ENIs: 15, IPv4PerENI: 50} // 15*49+2 = 737
	big.VCPU = 29
	assert.EqualValues(t, 110, big.MaxPods())
	big.VCPU = 30
	assert.EqualValues(t, 250, big.MaxPods())
	big.VCPU = 96
	assert.EqualValues(t, 250, big.MaxPods())
	assert.EqualValues(t, 737, big.ENIMaxPods())
	small := InstanceType{VCPU: 2, ENIs: 3, IPv4PerENI: 10}
	assert.EqualValues(t, 29, small.MaxPods(), "below the cap the ENI figure stands")
}

// TestEniMaxPodsFile compares with the AMI's former eni-max-pods.txt
// (awslabs/amazon-eks-ami files/eni-max-pods.txt at 035f7f6, 2024-02-23).
func TestEniMaxPodsFile(t *testing.T) {
	for name, want := range map[string]int64{
		"m6i.large": 29, "m6i.2xlarge": 58, "m6i.4xlarge": 234, "t3.medium": 17,
	} {
		it, ok := Lookup(name)
		require.True(t, ok, name)
		assert.Equal(t, want, it.ENIMaxPods(), name)
	}
}
