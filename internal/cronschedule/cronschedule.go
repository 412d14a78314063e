// Package cronschedule holds the one rule for a CronJob schedule: the rule
// the Kubernetes API server applies, so a schedule that preview accepts is
// one `pulumi up` can create, and the longest gap between its runs as the
// CronJob controller computes them.
package cronschedule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// window is how far LongestGap walks: two years cover every gap of a
// schedule that fires at least once a year.
const window = 2 * 366 * 24 * time.Hour

// start is a fixed date in UTC, so the gap of a schedule is the same on
// every preview.
var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Parse accepts what the API server accepts in a CronJob's spec.schedule
// with no spec.timeZone: k8s.io/kubernetes v1.35.4
// pkg/apis/batch/validation validateScheduleFormat parses it with
// robfig/cron/v3's ParseStandard (pkg/util/parsers, the version its go.mod
// pins, v3.0.1: five fields, month and weekday names, and the @ macros)
// and refuses TZ and CRON_TZ in it ("use timeZone field instead").
func Parse(schedule string) (cron.Schedule, error) {
	if strings.Contains(schedule, "TZ") {
		return nil, errors.New("a time zone (TZ or CRON_TZ) in the schedule is refused by Kubernetes; the schedule runs in kube-controller-manager's time zone (UTC on EKS)")
	}
	return parseStandard(schedule)
}

// parseStandard recovers from the parser's panics as the API server does
// (ParseCronScheduleWithPanicRecovery).
func parseStandard(schedule string) (s cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("invalid schedule format: %v", r)
		}
	}()
	return cron.ParseStandard(schedule)
}

// LongestGap is the longest time between two consecutive runs of schedule,
// so that "the last success is older than twice the schedule" holds for
// irregular schedules too ("0 9 * * 1-5" has a 72 h weekend gap). It reads
// the run times from the parsed schedule over two years from a fixed date
// in UTC, day by day rather than run by run: the parser's own Next over
// every run of "* * * * *" takes over a second, which every preview would
// pay; the test checks both walks agree.
func LongestGap(schedule string) (time.Duration, error) {
	s, err := Parse(schedule)
	if err != nil {
		return 0, err
	}
	switch s := s.(type) {
	case cron.ConstantDelaySchedule: // @every <duration>
		return s.Delay, nil
	case *cron.SpecSchedule:
		return specGap(s), nil
	}
	return 0, fmt.Errorf("schedule %q parsed to an unexpected %T", schedule, s)
}

// starBit marks a field given as * or ? in a SpecSchedule (robfig/cron/v3
// v3.0.1 spec.go, unexported there).
const starBit = 1 << 63

// runsOn is robfig/cron/v3 v3.0.1's dayMatches with the month check: when
// either day field is a star a day must match both, when both are
// restricted either will do (cron(8)).
func runsOn(s *cron.SpecSchedule, day time.Time) bool {
	if s.Month&(1<<uint(day.Month())) == 0 {
		return false
	}
	dom := s.Dom&(1<<uint(day.Day())) != 0
	dow := s.Dow&(1<<uint(day.Weekday())) != 0
	if s.Dom&starBit != 0 || s.Dow&starBit != 0 {
		return dom && dow
	}
	return dom || dow
}

func specGap(s *cron.SpecSchedule) time.Duration {
	// The times of day it runs at, and the longest gap between two of them.
	var times []time.Duration
	for h := range 24 {
		for m := range 60 {
			if s.Hour&(1<<uint(h)) != 0 && s.Minute&(1<<uint(m)) != 0 {
				times = append(times, time.Duration(h)*time.Hour+time.Duration(m)*time.Minute)
			}
		}
	}
	var inDay time.Duration
	for i := 1; i < len(times); i++ {
		inDay = max(inDay, times[i]-times[i-1])
	}
	var longest time.Duration
	var last time.Time // the last run of the previous day that has runs
	for day := start; day.Sub(start) < window; day = day.AddDate(0, 0, 1) {
		if !runsOn(s, day) {
			continue
		}
		if !last.IsZero() {
			longest = max(longest, day.Add(times[0]).Sub(last))
		}
		longest = max(longest, inDay)
		last = day.Add(times[len(times)-1])
	}
	if longest == 0 {
		return window
	}
	return longest
}
