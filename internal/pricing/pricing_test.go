package pricing

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVolumeGP3(t *testing.T) {
	// 20 GiB × $0.08 = $1.60; baseline IOPS and throughput are free.
	usd, ok := Volume(VolumeGP3, 20, 3000, 125)
	assert.True(t, ok)
	assert.InDelta(t, 1.60, usd, 1e-9)
	// + (6000-3000) × $0.005 = $15 + (250-125) × $0.04 = $5: $21.60.
	usd, _ = Volume(VolumeGP3, 20, 6000, 250)
	assert.InDelta(t, 21.60, usd, 1e-9)
}

func TestVolumeIO2Tiers(t *testing.T) {
	// 20 × $0.125 = $2.50 + 10,000 × $0.065 = $650: $652.50.
	usd, ok := Volume(VolumeIO2, 20, 10000, 0)
	assert.True(t, ok)
	assert.InDelta(t, 652.50, usd, 1e-9)
	// 32,000 × $0.065 = $2,080 + 32,000 × $0.0455 = $1,456 + 36,000 × $0.03185 = $1,146.60.
	assert.InDelta(t, 2080+1456+1146.60, IO2IOPS(100000), 1e-6)
	assert.InDelta(t, 2080+0.0455, IO2IOPS(32001), 1e-9)
	_, ok = Volume("gp2", 20, 100, 0)
	assert.False(t, ok, "a type the table does not hold is unknown")
}

func TestInstanceHourFromCapacity(t *testing.T) {
	p, ok := InstanceHour("m6i.large")
	assert.True(t, ok)
	assert.Equal(t, 0.096, p.USD)
	_, ok = InstanceHour("x9z.huge")
	assert.False(t, ok)
}

func TestFSxOnlyWhatTheTableHolds(t *testing.T) {
	p, ok := FSx("SINGLE_AZ_1")
	assert.True(t, ok)
	assert.Equal(t, 0.09, p.StorageGB.USD)
	assert.Equal(t, 0.26, p.MBps.USD)
	for _, d := range []string{"SINGLE_AZ_2", "MULTI_AZ_1", "SINGLE_AZ_HA_2"} {
		_, ok := FSx(d)
		assert.False(t, ok, "%s is not in the table: unknown, never guessed", d)
	}
}

func TestMoneyAndRate(t *testing.T) {
	assert.Equal(t, "$1,957.50", Money(1957.5))
	assert.Equal(t, "$0.00", Money(0))
	assert.Equal(t, "$1,234,567.89", Money(1234567.891))
	assert.Equal(t, "$0.0225/h", Rate(ALBHour, "h"))
	assert.Equal(t, "$0.10/h", Rate(EKSStandardHour, "h"))
	assert.Equal(t, "$1.00/key-month", Rate(KMSKeyMonth, "key-month"))
}

func TestUnknownIsNotZero(t *testing.T) {
	e := New("x", Region)
	e.Add("nodes", 100, SourceEC2, "priced")
	e.AddUnknown("registry storage", "no price")
	e.AddUsage("logs", SourceLogs, "per GB")
	assert.Equal(t, 100.0, e.Total())
	assert.Equal(t, []string{"registry storage"}, e.Unknown())
	assert.Equal(t, "$100.00 + unknown (registry storage) per month", e.TotalString())
	s := e.String()
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, "registry storage") && !strings.Contains(line, "total") {
			assert.Contains(t, line, "unknown")
			assert.NotContains(t, line, "$0.00", "an unknown price is never shown as zero")
		}
		if strings.Contains(line, " logs ") {
			assert.Contains(t, line, "usage")
			assert.NotContains(t, line, "$0.00")
		}
	}
	assert.Contains(t, s, "+ unknown (registry storage")
	assert.False(t, e.OtherRegion())
}

func TestOtherRegionIsSaid(t *testing.T) {
	e := New("x", "eu-west-1")
	e.Add("EKS control plane", 73, SourceEKS, "x")
	assert.True(t, e.OtherRegion())
	s := e.String()
	assert.Contains(t, s, "prices are us-east-1's")
	assert.Contains(t, s, "at us-east-1's prices")
}
