package monitoring

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// cronWindow is how far ScheduleInterval looks: two years cover every gap of
// a schedule that fires at least once a year.
const cronWindow = 2 * 366 * 24 * time.Hour

var cronMacros = map[string]string{
	"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
	"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}

var cronNames = map[string]int{
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
	"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
}

// ScheduleInterval is the longest gap between two consecutive runs of a
// CronJob schedule (the five-field syntax and macros Kubernetes accepts),
// so that "last success older than twice the schedule" holds for irregular
// schedules too ("0 9 * * 1-5" has a 72 h weekend gap). It walks the
// schedule's run times over two years from a fixed date (UTC).
func ScheduleInterval(schedule string) (time.Duration, error) {
	s := strings.TrimSpace(schedule)
	if m, ok := cronMacros[strings.ToLower(s)]; ok {
		s = m
	}
	f := strings.Fields(s)
	if len(f) != 5 {
		return 0, fmt.Errorf("cron schedule %q must have five fields", schedule)
	}
	bounds := [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}}
	var sets [5]map[int]bool
	for i, field := range f {
		set, err := cronField(field, bounds[i][0], bounds[i][1])
		if err != nil {
			return 0, fmt.Errorf("cron schedule %q: %w", schedule, err)
		}
		sets[i] = set
	}
	if sets[4][7] {
		sets[4][0] = true // 7 is Sunday too
	}
	domAny, dowAny := f[2] == "*" || strings.HasPrefix(f[2], "*/"), f[4] == "*" || strings.HasPrefix(f[4], "*/")
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var last time.Time
	var longest time.Duration
	for day := start; day.Sub(start) < cronWindow; day = day.AddDate(0, 0, 1) {
		if !sets[3][int(day.Month())] {
			continue
		}
		dom, dow := sets[2][day.Day()], sets[4][int(day.Weekday())]
		// cron(8): when both day fields are restricted, either may match.
		match := dom && dow
		if !domAny && !dowAny {
			match = dom || dow
		}
		if !match {
			continue
		}
		for h := 0; h < 24; h++ {
			if !sets[1][h] {
				continue
			}
			for m := 0; m < 60; m++ {
				if !sets[0][m] {
					continue
				}
				t := day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
				if !last.IsZero() && t.Sub(last) > longest {
					longest = t.Sub(last)
				}
				last = t
			}
		}
	}
	if longest == 0 {
		return cronWindow, nil
	}
	return longest, nil
}

func cronField(field string, lo, hi int) (map[int]bool, error) {
	out := map[int]bool{}
	for _, part := range strings.Split(field, ",") {
		step := 1
		if r, s, ok := strings.Cut(part, "/"); ok {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("bad step in %q", part)
			}
			part, step = r, n
		}
		from, to := lo, hi
		if part != "*" {
			a, b, isRange := strings.Cut(part, "-")
			var err error
			if from, err = cronValue(a); err != nil {
				return nil, err
			}
			to = from
			if isRange {
				if to, err = cronValue(b); err != nil {
					return nil, err
				}
			} else if step > 1 {
				to = hi // "5/15": from 5 to the end
			}
		}
		if from < lo || to > hi || from > to {
			return nil, fmt.Errorf("%q is outside %d-%d", part, lo, hi)
		}
		for v := from; v <= to; v += step {
			out[v] = true
		}
	}
	return out, nil
}

func cronValue(s string) (int, error) {
	if v, ok := cronNames[strings.ToLower(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return v, nil
}
