package tests

import (
	"strings"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/internal/pricing"
	"github.com/anka-ha/anka-build-cloud-aws/stacks"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// estimateLine returns a line of the stack's estimate, failing if missing.
func estimateLine(t *testing.T, e pricing.Estimate, item string) pricing.Line {
	t.Helper()
	l, ok := e.Line(item)
	require.True(t, ok, "the estimate has a %q line:\n%s", item, e)
	return l
}

// TestEstimateStackFiles pins each stack file's monthly estimate
// (us-east-1 list prices of pricing.Date, 730 h a month) line by line.
func TestEstimateStackFiles(t *testing.T) {
	type want struct {
		lines   map[string]float64
		usage   []string
		unknown []string
		total   float64
	}
	prodLike := map[string]float64{
		// 3 zones × 2 m6i.2xlarge × $0.384/h × 730 h
		stacks.CostNodes: 1681.92,
		// $0.10/h × 730 h (1.35, standard support)
		stacks.CostEKS: 73.00,
		// perAz: 3 × $0.045/h × 730 h
		stacks.CostNAT: 98.55,
		// 3 NAT EIPs + 3 internet-facing NLB addresses (one per zone) = 6 × $0.005/h × 730 h
		stacks.CostPublicIPv4: 21.90,
		// NLB: $0.0225/h × 730 h = $16.425
		stacks.CostLB: 16.43,
		// 3 × gp3 20 GiB, 6000 IOPS, 250 MiB/s:
		// 3 × (20 × $0.08 + 3000 × $0.005 + 125 × $0.04) = 3 × $21.60
		stacks.CostEtcd: 64.80,
		// 6 nodes × gp3 200 GiB × $0.08
		stacks.CostRootVolumes: 96.00,
		// the secrets-encryption key, $1/key-month
		stacks.CostKMS: 1.00,
	}
	cases := map[string]want{
		"dev": {
			lines: map[string]float64{
				// 3 zones × 1 m6i.large × $0.096/h × 730 h
				stacks.CostNodes: 210.24,
				stacks.CostEKS:   73.00,
				// single: 1 × $0.045/h × 730 h
				stacks.CostNAT: 32.85,
				// 1 NAT EIP × $0.005/h × 730 h; the ALB is internal
				stacks.CostPublicIPv4: 3.65,
				// ALB: $0.0225/h × 730 h
				stacks.CostLB: 16.43,
				// 3 × gp3 20 GiB at the free baseline: 3 × 20 × $0.08
				stacks.CostEtcd: 4.80,
				// 3 × 50 GiB × $0.08
				stacks.CostRootVolumes: 12.00,
				// secretsEncryption off: no key
				stacks.CostKMS: 0,
			},
			usage: []string{stacks.CostBackups, stacks.CostLogs},
			// FSx for OpenZFS SINGLE_AZ_2 is not in the price table.
			unknown: []string{stacks.CostRegistry},
			// 210.24 + 73 + 32.85 + 3.65 + 16.43 + 4.80 + 12 + 0
			total: 352.97,
		},
		"prod": {
			lines: prodLike,
			usage: []string{stacks.CostBackups, stacks.CostLogs},
			// FSx for OpenZFS MULTI_AZ_1 is not in the price table.
			unknown: []string{stacks.CostRegistry},
			// 1681.92 + 73 + 98.55 + 21.90 + 16.43 + 64.80 + 96 + 1
			total: 2053.60,
		},
		"s3": {
			lines: prodLike,
			// the Registry's S3 bucket is billed by what it stores
			usage: []string{stacks.CostRegistry, stacks.CostBackups, stacks.CostLogs},
			total: 2053.60,
		},
	}
	for stack, w := range cases {
		t.Run(stack, func(t *testing.T) {
			e := loadConfig(t, stack).Estimate()
			for item, usd := range w.lines {
				l := estimateLine(t, e, item)
				assert.Equal(t, pricing.Priced, l.Kind, "%s %s", stack, item)
				assert.InDelta(t, usd, l.USD, 0.001, "%s %s: %s", stack, item, l.Detail)
			}
			for _, item := range w.usage {
				assert.Equal(t, pricing.Usage, estimateLine(t, e, item).Kind, "%s %s", stack, item)
			}
			assert.Equal(t, w.unknown, e.Unknown(), stack)
			assert.InDelta(t, w.total, e.Total(), 0.001, "%s:\n%s", stack, e)
			assert.Equal(t, "us-east-1", e.Region)
			s := e.String()
			assert.Contains(t, s, pricing.Date)
			assert.Contains(t, s, pricing.Money(w.total))
			t.Logf("%s:\n%s", stack, s)
		})
	}
}

// TestEstimateProdEtcdBefore: the io2 volumes prod used before (10,000 IOPS)
// cost $1,957.50 a month, 30 times the gp3 volumes it uses now.
func TestEstimateProdEtcdBefore(t *testing.T) {
	run, err := runStackFile(t, "prod", map[string]string{"anka:storage": `{"etcd":{"type":"io2","iops":10000}}`})
	require.NoError(t, err)
	e := run.stack.Config.Estimate()
	// 3 × (20 GiB × $0.125 + 10,000 IOPS × $0.065) = 3 × $652.50
	assert.InDelta(t, 1957.50, estimateLine(t, e, stacks.CostEtcd).USD, 0.001)
	// 2053.60 - 64.80 + 1957.50
	assert.InDelta(t, 3946.30, e.Total(), 0.001)
}

// TestEstimateUnknownIsShownAsUnknown: the registry's FSx MULTI_AZ_1 has
// no price in the table: the line says unknown (never $0.00) and the total
// names it.
func TestEstimateUnknownIsShownAsUnknown(t *testing.T) {
	e := loadConfig(t, "prod").Estimate()
	l := estimateLine(t, e, stacks.CostRegistry)
	assert.Equal(t, pricing.Unknown, l.Kind)
	assert.Contains(t, l.Detail, "MULTI_AZ_1")
	s := e.String()
	var row string
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), stacks.CostRegistry) {
			row = line
		}
	}
	require.NotEmpty(t, row, s)
	assert.Contains(t, row, "unknown")
	assert.NotContains(t, row, "$0.00")
	assert.Contains(t, s, "+ unknown (registry storage")
}

// TestEstimateEdgeModesAndRegion: nlb-mtls bills an NLB, none and
// ingress-nginx no load balancer from this stack; another region is priced
// at us-east-1's prices and says so; extended support costs $0.60/h.
func TestEstimateEdgeModesAndRegion(t *testing.T) {
	cfg := loadConfig(t, "dev")

	none := cfg
	none.Edge.Mode = "none"
	lb := estimateLine(t, none.Estimate(), stacks.CostLB)
	assert.Equal(t, 0.0, lb.USD)
	assert.Contains(t, lb.Detail, "none from this stack")

	other := cfg
	other.Region = "eu-west-1"
	e := other.Estimate()
	assert.True(t, e.OtherRegion())
	assert.Contains(t, e.String(), "prices are us-east-1's")
	assert.InDelta(t, 352.97, e.Total(), 0.001, "the same us-east-1 prices")

	spot := cfg
	spot.Cluster.Nodes.CapacityType = "SPOT"
	assert.Equal(t, pricing.Unknown, estimateLine(t, spot.Estimate(), stacks.CostNodes).Kind, "spot prices are not in the table")
}
