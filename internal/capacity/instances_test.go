package capacity

import (
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResourcesArithmetic(t *testing.T) {
	a := Resources{MilliCPU: 1930, MemoryMiB: 6903, Pods: 29}
	b := Resources{MilliCPU: 180, MemoryMiB: 104, Pods: 3}
	assert.Equal(t, Resources{MilliCPU: 2110, MemoryMiB: 7007, Pods: 32}, a.Add(b))
	assert.Equal(t, Resources{MilliCPU: 1750, MemoryMiB: 6799, Pods: 26}, a.Sub(b))
	assert.Equal(t, Resources{MilliCPU: -1750, MemoryMiB: -6799, Pods: -26}, b.Sub(a))
	assert.True(t, b.Fits(a))
	assert.False(t, a.Fits(b))
	assert.True(t, a.Fits(a), "equal fits")
	assert.False(t, Resources{Pods: 30}.Fits(a), "one field over is enough to not fit")
	assert.True(t, Resources{}.Fits(Resources{}))
	assert.Equal(t, "1930m CPU, 6903Mi, 29 pods", a.String())
}

// TestInstanceFigures pins the brief's check values and a few others, with
// the arithmetic from nodeadm (kube-reserved, evictionHard, max pods), the
// managed node group cap, and the memory model in Capacity.
func TestInstanceFigures(t *testing.T) {
	tests := []struct {
		name         string
		eniMaxPods   int64
		kubeReserved Resources
		capacity     Resources
		allocatable  Resources
	}{
		{
			// 2 vCPU: CPU 6% of 1000 = 60 + 1% of 1000 = 10 -> 70m.
			// Pods 3 ENIs * (10-1) + 2 = 29, below the 110 cap.
			// Memory reserved 11*29 + 255 = 574Mi.
			// Capacity memory 8192 - ceil(8192*0.075 = 614.4) = 8192 - 615 = 7577.
			// Allocatable 2000-70 = 1930m; 7577-574-100 = 6903Mi.
			name:         "m6i.large",
			eniMaxPods:   29,
			kubeReserved: Resources{MilliCPU: 70, MemoryMiB: 574},
			capacity:     Resources{MilliCPU: 2000, MemoryMiB: 7577, Pods: 29},
			allocatable:  Resources{MilliCPU: 1930, MemoryMiB: 6903, Pods: 29},
		},
		{
			// 8 vCPU: 60 + 10 + 0.5% of 2000 = 10 + 0.25% of 4000 = 10 -> 90m.
			// Pods 4 * (15-1) + 2 = 58. Memory reserved 11*58 + 255 = 893Mi.
			// Capacity memory 32768 - ceil(2457.6) = 32768 - 2458 = 30310.
			// Allocatable 8000-90 = 7910m; 30310-893-100 = 29317Mi.
			name:         "m6i.2xlarge",
			eniMaxPods:   58,
			kubeReserved: Resources{MilliCPU: 90, MemoryMiB: 893},
			capacity:     Resources{MilliCPU: 8000, MemoryMiB: 30310, Pods: 58},
			allocatable:  Resources{MilliCPU: 7910, MemoryMiB: 29317, Pods: 58},
		},
		{
			// 16 vCPU: 60 + 10 + 10 + 0.25% of 12000 = 30 -> 110m.
			// ENI pods 8 * (30-1) + 2 = 234, capped to 110 (< 30 vCPUs), but
			// kube-reserved memory still counts 234: 11*234 + 255 = 2829Mi.
			// Capacity memory 65536 - ceil(4915.2) = 65536 - 4916 = 60620.
			// Allocatable 16000-110 = 15890m; 60620-2829-100 = 57691Mi.
			name:         "m6i.4xlarge",
			eniMaxPods:   234,
			kubeReserved: Resources{MilliCPU: 110, MemoryMiB: 2829},
			capacity:     Resources{MilliCPU: 16000, MemoryMiB: 60620, Pods: 110},
			allocatable:  Resources{MilliCPU: 15890, MemoryMiB: 57691, Pods: 110},
		},
		{
			// 32 vCPU: 60 + 10 + 10 + 0.25% of 28000 = 70 -> 150m.
			// Pods 8 * 29 + 2 = 234, under the 250 cap (>= 30 vCPUs).
			// Memory reserved 2829Mi. Capacity 65536 - 4916 = 60620.
			// Allocatable 32000-150 = 31850m; 60620-2829-100 = 57691Mi.
			name:         "c7i.8xlarge",
			eniMaxPods:   234,
			kubeReserved: Resources{MilliCPU: 150, MemoryMiB: 2829},
			capacity:     Resources{MilliCPU: 32000, MemoryMiB: 60620, Pods: 234},
			allocatable:  Resources{MilliCPU: 31850, MemoryMiB: 57691, Pods: 234},
		},
		{
			// Graviton: 8192 - 64 (CMA) = 8128; - ceil(8128*0.075 = 609.6) = 610 -> 7518.
			// Allocatable 7518-574-100 = 6844Mi.
			name:         "m7g.large",
			eniMaxPods:   29,
			kubeReserved: Resources{MilliCPU: 70, MemoryMiB: 574},
			capacity:     Resources{MilliCPU: 2000, MemoryMiB: 7518, Pods: 29},
			allocatable:  Resources{MilliCPU: 1930, MemoryMiB: 6844, Pods: 29},
		},
		{
			// 3 ENIs * (6-1) + 2 = 17 pods; memory reserved 11*17 + 255 = 442Mi.
			// Capacity 4096 - ceil(307.2) = 4096 - 308 = 3788.
			// Allocatable 3788-442-100 = 3246Mi.
			name:         "t3.medium",
			eniMaxPods:   17,
			kubeReserved: Resources{MilliCPU: 70, MemoryMiB: 442},
			capacity:     Resources{MilliCPU: 2000, MemoryMiB: 3788, Pods: 17},
			allocatable:  Resources{MilliCPU: 1930, MemoryMiB: 3246, Pods: 17},
		},
		{
			// 4 vCPU: 60 + 10 + 0.5% of 2000 = 10 -> 80m.
			// c = 2 GiB/vCPU: 8192 -> 7577; 7577-893-100 = 6584Mi.
			name:         "c6i.xlarge",
			eniMaxPods:   58,
			kubeReserved: Resources{MilliCPU: 80, MemoryMiB: 893},
			capacity:     Resources{MilliCPU: 4000, MemoryMiB: 7577, Pods: 58},
			allocatable:  Resources{MilliCPU: 3920, MemoryMiB: 6584, Pods: 58},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it, ok := Lookup(tc.name)
			require.True(t, ok)
			assert.Equal(t, tc.eniMaxPods, it.ENIMaxPods(), "ENIMaxPods")
			assert.Equal(t, tc.capacity.Pods, it.MaxPods(), "MaxPods")
			assert.Equal(t, tc.kubeReserved, it.KubeReserved(), "KubeReserved")
			assert.Equal(t, Resources{MemoryMiB: 100}, it.EvictionHard(), "EvictionHard")
			assert.Equal(t, tc.capacity, it.Capacity(), "Capacity")
			assert.Equal(t, tc.allocatable, it.Allocatable(), "Allocatable")
		})
	}
}

// TestAgainstKarpenterPublished compares every row with the allocatable
// figures Karpenter publishes for AL2023 with its default settings, which
// follow the same model (kube-reserved and evictionHard as nodeadm, 7.5% VM
// overhead, 64 MiB Graviton CMA, ENI-limited pods without a cap):
// aws/karpenter-provider-aws website/content/en/docs/reference/instance-types.md
// at 1d927085dd81a9df9301e613f371dac5b4d16bfe, "Resources" of each type.
// Karpenter's pods are the uncapped ENI figure, so they are compared with
// ENIMaxPods; Allocatable().Pods is the capped MaxPods.
func TestAgainstKarpenterPublished(t *testing.T) {
	type alloc struct{ milliCPU, memoryMiB, pods int64 }
	published := map[string]alloc{
		"m5.large":         {1930, 6903, 29},
		"m5.xlarge":        {3920, 14162, 58},
		"m5.2xlarge":       {7910, 29317, 58},
		"m5.4xlarge":       {15890, 57691, 234},
		"m5.8xlarge":       {31850, 118312, 234},
		"m6i.large":        {1930, 6903, 29},
		"m6i.xlarge":       {3920, 14162, 58},
		"m6i.2xlarge":      {7910, 29317, 58},
		"m6i.4xlarge":      {15890, 57691, 234},
		"m6i.8xlarge":      {31850, 118312, 234},
		"m7i.large":        {1930, 6903, 29},
		"m7i.xlarge":       {3920, 14162, 58},
		"m7i.2xlarge":      {7910, 29317, 58},
		"m7i.4xlarge":      {15890, 57691, 234},
		"m7i.8xlarge":      {31850, 118312, 234},
		"m7i-flex.large":   {1930, 6903, 29},
		"m7i-flex.xlarge":  {3920, 14162, 58},
		"m7i-flex.2xlarge": {7910, 29317, 58},
		"m7i-flex.4xlarge": {15890, 57691, 234},
		"m7i-flex.8xlarge": {31850, 118312, 234},
		"m6a.large":        {1930, 6903, 29},
		"m6a.xlarge":       {3920, 14162, 58},
		"m6a.2xlarge":      {7910, 29317, 58},
		"m6a.4xlarge":      {15890, 57691, 234},
		"m6a.8xlarge":      {31850, 118312, 234},
		"m7a.large":        {1930, 6903, 29},
		"m7a.xlarge":       {3920, 14162, 58},
		"m7a.2xlarge":      {7910, 29317, 58},
		"m7a.4xlarge":      {15890, 57691, 234},
		"m7a.8xlarge":      {31850, 118312, 234},
		"c6i.large":        {1930, 3114, 29},
		"c6i.xlarge":       {3920, 6584, 58},
		"c6i.2xlarge":      {7910, 14162, 58},
		"c6i.4xlarge":      {15890, 27381, 234},
		"c6i.8xlarge":      {31850, 57691, 234},
		"c7i.large":        {1930, 3114, 29},
		"c7i.xlarge":       {3920, 6584, 58},
		"c7i.2xlarge":      {7910, 14162, 58},
		"c7i.4xlarge":      {15890, 27381, 234},
		"c7i.8xlarge":      {31850, 57691, 234},
		"r6i.large":        {1930, 14481, 29},
		"r6i.xlarge":       {3920, 29317, 58},
		"r6i.2xlarge":      {7910, 59627, 58},
		"r6i.4xlarge":      {15890, 118312, 234},
		"r6i.8xlarge":      {31850, 239554, 234},
		"r7i.large":        {1930, 14481, 29},
		"r7i.xlarge":       {3920, 29317, 58},
		"r7i.2xlarge":      {7910, 59627, 58},
		"r7i.4xlarge":      {15890, 118312, 234},
		"r7i.8xlarge":      {31850, 239554, 234},
		"t3.medium":        {1930, 3246, 17},
		"t3.large":         {1930, 6837, 35},
		"t3.xlarge":        {3920, 14162, 58},
		"t3.2xlarge":       {7910, 29317, 58},
		"m6g.large":        {1930, 6844, 29},
		"m6g.xlarge":       {3920, 14103, 58},
		"m6g.2xlarge":      {7910, 29258, 58},
		"m6g.4xlarge":      {15890, 57632, 234},
		"m6g.8xlarge":      {31850, 118253, 234},
		"m7g.large":        {1930, 6844, 29},
		"m7g.xlarge":       {3920, 14103, 58},
		"m7g.2xlarge":      {7910, 29258, 58},
		"m7g.4xlarge":      {15890, 57632, 234},
		"m7g.8xlarge":      {31850, 118253, 234},
		"c7g.large":        {1930, 3055, 29},
		"c7g.xlarge":       {3920, 6525, 58},
		"c7g.2xlarge":      {7910, 14103, 58},
		"c7g.4xlarge":      {15890, 27322, 234},
		"c7g.8xlarge":      {31850, 57632, 234},
		"r7g.large":        {1930, 14422, 29},
		"r7g.xlarge":       {3920, 29258, 58},
		"r7g.2xlarge":      {7910, 59568, 58},
		"r7g.4xlarge":      {15890, 118253, 234},
		"r7g.8xlarge":      {31850, 239495, 234},
	}
	require.Len(t, published, len(Known()), "every table row has a published figure")
	for name, want := range published {
		it, ok := Lookup(name)
		if !assert.True(t, ok, name) {
			continue
		}
		got := it.Allocatable()
		assert.Equal(t, want.milliCPU, got.MilliCPU, "%s CPU", name)
		assert.Equal(t, want.memoryMiB, got.MemoryMiB, "%s memory", name)
		assert.Equal(t, want.pods, it.ENIMaxPods(), "%s ENI max pods", name)
	}
}

// TestTableConsistent checks every entry on its own terms.
func TestTableConsistent(t *testing.T) {
	names := Known()
	require.True(t, sort.StringsAreSorted(names))
	require.Len(t, names, len(instanceTypes))
	assert.GreaterOrEqual(t, len(names), 74)
	for _, name := range names {
		it, ok := Lookup(name)
		require.True(t, ok, name)
		assert.Equal(t, name, it.Name)
		assert.Positive(t, it.VCPU, name)
		assert.Positive(t, it.MemoryMiB, name)
		assert.Positive(t, it.ENIs, name)
		assert.Greater(t, it.IPv4PerENI, 1, name)
		assert.GreaterOrEqual(t, it.HourlyUSD, 0.0, name)
		assert.Contains(t, []string{ArchAMD64, ArchARM64}, it.Arch, name)
		assert.Positive(t, it.MaxPods(), name)
		assert.LessOrEqual(t, it.MaxPods(), it.ENIMaxPods(), name)
		a := it.Allocatable()
		assert.Positive(t, a.MilliCPU, name)
		assert.Positive(t, a.MemoryMiB, name)
		assert.Positive(t, a.Pods, name)
		c := it.Capacity()
		assert.Less(t, c.MemoryMiB, it.MemoryMiB, name)
		assert.True(t, a.Fits(c), name)
	}
}

// TestFamilyShapes checks that the rows of each family scale as EC2 sizes do:
// within a family, memory per vCPU and price per vCPU are constant.
func TestFamilyShapes(t *testing.T) {
	type shape struct {
		mibPerVCPU int64
		usdPerVCPU float64
	}
	seen := map[string]shape{}
	for _, name := range Known() {
		it, _ := Lookup(name)
		family, _, _ := strings.Cut(name, ".")
		s := shape{it.MemoryMiB / int64(it.VCPU), it.HourlyUSD / float64(it.VCPU)}
		if family == "t3" {
			continue // t3.medium and t3.large share 2 vCPUs
		}
		if prev, ok := seen[family]; ok {
			assert.Equal(t, prev.mibPerVCPU, s.mibPerVCPU, name)
			assert.InDelta(t, prev.usdPerVCPU, s.usdPerVCPU, 1e-4, name)
		} else {
			seen[family] = s
		}
	}
	assert.Len(t, seen, 14)
}

func TestLookupUnknown(t *testing.T) {
	for _, name := range []string{"", "m6i.nano", "M6I.LARGE", "m6i", "x9z.large"} {
		it, ok := Lookup(name)
		assert.False(t, ok, name)
		assert.Equal(t, InstanceType{}, it, name)
	}
}

func TestKnownIsACopy(t *testing.T) {
	a := Known()
	a[0] = "mutated"
	assert.NotEqual(t, "mutated", Known()[0])
}
