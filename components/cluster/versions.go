package cluster

import (
	"fmt"
	"strings"
	"time"
)

// Now is the clock the version checks read; tests replace it to pin a date.
var Now = time.Now

// VersionRelease is one row of EKS's Kubernetes release calendar. Every date
// is the start of that day in UTC: "Billing for extended support starts at the
// beginning of the day that the version reaches end of standard support, in
// the UTC+0 timezone" (EKS user guide, kubernetes-versions, "Amazon EKS
// Kubernetes release calendar").
type VersionRelease struct {
	Version              string
	UpstreamRelease      time.Time
	EKSRelease           time.Time
	EndOfStandardSupport time.Time
	EndOfExtendedSupport time.Time
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// VersionCalendarAsOf is the day the calendar below was copied; a version
// EKS publishes later is refused until a row is added here and tested.
const VersionCalendarAsOf = "2026-11-30"

// VersionCalendar holds the Kubernetes versions this program is tested with,
// as published in the EKS user guide's release calendar
// (https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html#kubernetes-release-calendar,
// source awsdocs/amazon-eks-user-guide latest/ug/versioning/kubernetes-versions.adoc),
// as of VersionCalendarAsOf. Standard support lasts 14 months from the EKS
// release, extended support 12 more; after that EKS no longer creates
// clusters at that version and upgrades existing ones itself (same page,
// "Amazon EKS extended support FAQs"). The 1.33 and 1.34 rows are the page's;
// the stored copy of it ends at 1.34, so the 1.35 and 1.36 rows were read
// from copies of the same table (endoflife.date/amazon-eks, which cites it)
// and agree with the 14 + 12 month rule: check them against the live page
// when adding the next row.
var VersionCalendar = []VersionRelease{
	{"1.33", day("2025-04-23"), day("2025-05-29"), day("2026-07-29"), day("2027-07-29")},
	{"1.34", day("2025-08-27"), day("2025-10-02"), day("2026-12-02"), day("2027-12-02")},
	{"1.35", day("2025-12-17"), day("2026-01-27"), day("2027-03-27"), day("2028-03-27")},
	{"1.36", day("2026-04-22"), day("2026-06-02"), day("2027-08-02"), day("2028-08-02")},
}

// EKS control-plane prices per cluster-hour (https://aws.amazon.com/eks/pricing/):
// $0.10 in standard support, $0.60 in extended support.
const (
	StandardSupportUSDPerHour = 0.10
	ExtendedSupportUSDPerHour = 0.60
	// hoursPerMonth is AWS's billing month (730 hours) used on its pricing pages.
	hoursPerMonth = 730
)

// StandardSupportWarningDays: EKS announces the end of standard support at
// least 60 days ahead (kubernetes-versions, "Amazon EKS version FAQs"); preview
// warns from then on.
const StandardSupportWarningDays = 60

// Support is where a version stands in the calendar on a given day.
type Support int

// Support states.
const (
	// SupportUnknown: not in VersionCalendar (not tested with this program).
	SupportUnknown Support = iota
	// SupportNotYet: before its EKS release date.
	SupportNotYet
	// SupportStandard: in standard support.
	SupportStandard
	// SupportExtended: past the end of standard support, billed at the
	// extended-support price.
	SupportExtended
	// SupportEnded: past the end of extended support; EKS no longer offers it.
	SupportEnded
)

// VersionSupport reports where version stands on the given day, with its
// calendar row (zero when unknown).
func VersionSupport(version string, now time.Time) (Support, VersionRelease) {
	for _, r := range VersionCalendar {
		if r.Version != version {
			continue
		}
		switch now = now.UTC(); {
		case now.Before(r.EKSRelease):
			return SupportNotYet, r
		case now.Before(r.EndOfStandardSupport):
			return SupportStandard, r
		case now.Before(r.EndOfExtendedSupport):
			return SupportExtended, r
		default:
			return SupportEnded, r
		}
	}
	return SupportUnknown, VersionRelease{}
}

// StandardVersions lists the calendar's versions in standard support on the
// given day, oldest first.
func StandardVersions(now time.Time) []string {
	var out []string
	for _, r := range VersionCalendar {
		if s, _ := VersionSupport(r.Version, now); s == SupportStandard {
			out = append(out, r.Version)
		}
	}
	return out
}

func calendarVersions() []string {
	out := make([]string, len(VersionCalendar))
	for i, r := range VersionCalendar {
		out[i] = r.Version
	}
	return out
}

// versionProblem is the anka:cluster.version check (eks mode): "" when the
// version is one EKS offers and this program is tested with.
func (a Args) versionProblem(now time.Time) string {
	s, r := VersionSupport(a.Version, now)
	switch s {
	case SupportUnknown:
		return fmt.Sprintf("must be an EKS version this program is tested with (%s, EKS calendar as of %s), got %q", strings.Join(calendarVersions(), ", "), VersionCalendarAsOf, a.Version)
	case SupportNotYet:
		return fmt.Sprintf("must be a version EKS offers: %s is released on EKS on %s, got %q", r.Version, r.EKSRelease.Format(time.DateOnly), a.Version)
	case SupportEnded:
		return fmt.Sprintf("must be a version EKS still offers: %s left extended support on %s and EKS no longer creates clusters at it (it upgrades existing ones itself); use one of %s, got %q",
			r.Version, r.EndOfExtendedSupport.Format(time.DateOnly), strings.Join(StandardVersions(now), ", "), a.Version)
	}
	return ""
}

// ExtendedSupport reports whether the (eks mode) version is in EKS extended
// support on the given day.
func (a Args) ExtendedSupport(now time.Time) bool {
	a = a.WithDefaults()
	s, _ := VersionSupport(a.Version, now)
	return a.Mode == ModeEKS && s == SupportExtended
}

func extendedSupportCost() string {
	std, ext := StandardSupportUSDPerHour*hoursPerMonth, ExtendedSupportUSDPerHour*hoursPerMonth
	return fmt.Sprintf("EKS bills the control plane $%.2f per cluster-hour in extended support instead of $%.2f (about $%.0f a month instead of $%.0f, $%.0f more per cluster)",
		ExtendedSupportUSDPerHour, StandardSupportUSDPerHour, ext, std, ext-std)
}

// ExtendedSupportMessage explains the refusal or warning for a version in
// extended support.
func (a Args) ExtendedSupportMessage(now time.Time) string {
	_, r := VersionSupport(a.WithDefaults().Version, now)
	return fmt.Sprintf("%s has been in EKS extended support since %s (until %s): %s; upgrade to one of %s",
		r.Version, r.EndOfStandardSupport.Format(time.DateOnly), r.EndOfExtendedSupport.Format(time.DateOnly), extendedSupportCost(), strings.Join(StandardVersions(now), ", "))
}

// Warnings are what preview should print for a valid config: a version in
// extended support (its cost), one leaving standard support soon, and a
// cluster only its creator can reach. The stack logs them with ctx.Log.Warn.
func (a Args) Warnings() []string {
	a = a.WithDefaults()
	if a.Mode != ModeEKS {
		return nil
	}
	now := Now()
	var out []string
	switch s, r := VersionSupport(a.Version, now); s {
	case SupportExtended:
		out = append(out, "anka:cluster.version "+a.ExtendedSupportMessage(now))
	case SupportStandard:
		if left := r.EndOfStandardSupport.Sub(now.UTC()); left < StandardSupportWarningDays*24*time.Hour {
			out = append(out, fmt.Sprintf("anka:cluster.version %s leaves EKS standard support on %s (in %d days); from then on %s; plan the upgrade to a newer version",
				r.Version, r.EndOfStandardSupport.Format(time.DateOnly), int(left.Hours()/24)+1, extendedSupportCost()))
		}
	}
	if !a.HasClusterAdmin() {
		out = append(out, "anka:cluster.accessEntries grants AmazonEKSClusterAdminPolicy at cluster scope to no principal: only the principal that runs the first `pulumi up` will be cluster admin (pulumi-eks sets bootstrapClusterCreatorAdminPermissions); list your administrators' role (see README, \"Cluster access\")")
	}
	return out
}
