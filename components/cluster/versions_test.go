package cluster

import (
	"strings"
	"testing"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/stretchr/testify/assert"
)

// at pins Now for one test.
func at(t *testing.T, date string) time.Time {
	t.Helper()
	now := day(date).Add(12 * time.Hour)
	old := Now
	Now = func() time.Time { return now }
	t.Cleanup(func() { Now = old })
	return now
}

func TestClusterVersionCalendar(t *testing.T) {
	for _, tc := range []struct {
		version, date string
		want          Support
	}{
		{"1.33", "2026-07-28", SupportStandard},
		{"1.33", "2026-07-29", SupportExtended}, // billing starts at the beginning of that day, UTC
		{"1.33", "2027-07-29", SupportEnded},
		{"1.34", "2026-11-30", SupportStandard},
		{"1.34", "2026-12-02", SupportExtended},
		{"1.36", "2026-06-01", SupportNotYet},
		{"1.36", "2026-06-02", SupportStandard},
		{"1.37", "2026-11-30", SupportUnknown},
		{"1.32", "2026-11-30", SupportUnknown}, // still in extended support, but not tested here
	} {
		got, _ := VersionSupport(tc.version, day(tc.date))
		assert.Equal(t, tc.want, got, "%s on %s", tc.version, tc.date)
	}
	s, _ := VersionSupport(DefaultVersion, day(VersionCalendarAsOf))
	assert.Equal(t, SupportStandard, s, "the default version is in standard support on the calendar's date")
	for i, r := range VersionCalendar {
		// 14 months of standard support, 12 of extended (kubernetes-versions).
		assert.Equal(t, r.EKSRelease.AddDate(0, 14, 0), r.EndOfStandardSupport, r.Version)
		assert.Equal(t, r.EndOfStandardSupport.AddDate(1, 0, 0), r.EndOfExtendedSupport, r.Version)
		if i > 0 {
			assert.True(t, VersionCalendar[i-1].EKSRelease.Before(r.EKSRelease), "oldest first")
		}
	}
}

// TestClusterVersionValidationFollowsTheCalendar: 1.33 was accepted with no
// word before; since 2026-07-29 it costs extended-support prices (warned),
// after 2027-07-29 EKS no longer offers it (refused). A version EKS has not
// released yet, or this program does not know, is refused.
func TestClusterVersionValidationFollowsTheCalendar(t *testing.T) {
	a := eksArgs()
	a.AccessEntries = accessArgs().AccessEntries
	a.Version = "1.33"

	at(t, "2026-11-30")
	assert.NoError(t, a.Validate(), "extended support is offered: dev may use it")
	assert.True(t, a.ExtendedSupport(Now()))
	w := a.Warnings()
	if assert.Len(t, w, 1) {
		assert.True(t, strings.HasPrefix(w[0], "anka:cluster.version 1.33 has been in EKS extended support since 2026-07-29 (until 2027-07-29)"), w[0])
		assert.Contains(t, w[0], "$0.60 per cluster-hour in extended support instead of $0.10")
		assert.Contains(t, w[0], "about $438 a month instead of $73, $365 more per cluster")
		assert.Contains(t, w[0], "upgrade to one of 1.34, 1.35, 1.36")
	}

	at(t, "2027-07-29")
	err := a.Validate()
	harness.AssertKeys(t, err, "anka:cluster.version")
	assert.ErrorContains(t, err, "left extended support on 2027-07-29")

	a.Version = "1.36"
	at(t, "2026-05-01")
	err = a.Validate()
	harness.AssertKeys(t, err, "anka:cluster.version")
	assert.ErrorContains(t, err, "released on EKS on 2026-06-02")

	a.Version = "1.37"
	at(t, "2026-11-30")
	assert.ErrorContains(t, a.Validate(), "tested with (1.33, 1.34, 1.35, 1.36")

	a.Version = ""
	assert.NoError(t, a.Validate())
	assert.Empty(t, a.Warnings(), "the default version, with a cluster admin: nothing to warn about")
	assert.False(t, a.ExtendedSupport(Now()))
}

func TestClusterWarnsBeforeStandardSupportEnds(t *testing.T) {
	a := eksArgs()
	a.AccessEntries = accessArgs().AccessEntries
	a.Version = "1.34"
	at(t, "2026-11-30")
	w := a.Warnings()
	if assert.Len(t, w, 1) {
		assert.Contains(t, w[0], "anka:cluster.version 1.34 leaves EKS standard support on 2026-12-02 (in 2 days)")
	}
	at(t, "2026-09-01")
	assert.Empty(t, a.Warnings(), "more than 60 days ahead")
}

func TestClusterWarnsWhenOnlyTheCreatorIsAdmin(t *testing.T) {
	at(t, "2026-11-30")
	a := eksArgs()
	w := a.Warnings()
	if assert.Len(t, w, 1) {
		assert.Contains(t, w[0], "anka:cluster.accessEntries grants AmazonEKSClusterAdminPolicy at cluster scope to no principal")
	}
	assert.Empty(t, Args{Mode: ModeExisting, Version: "1.20"}.Warnings(), "existing clusters are not this program's to version")
}
