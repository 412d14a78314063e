package cronschedule

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLongestGap: the longest gap of a schedule, so "twice the schedule" is
// right for irregular ones.
func TestLongestGap(t *testing.T) {
	for _, c := range []struct {
		schedule string
		want     time.Duration
	}{
		{"0 * * * *", time.Hour},
		{"@hourly", time.Hour},
		{"*/15 * * * *", 15 * time.Minute},
		{"0 */6 * * *", 6 * time.Hour},
		{"30 2 * * *", 24 * time.Hour},
		{"0 9 * * 1-5", 72 * time.Hour}, // Friday 09:00 to Monday 09:00
		{"0 9 * * MON-FRI", 72 * time.Hour},
		{"0 0,12 * * *", 12 * time.Hour},
		{"5/20 * * * *", 20 * time.Minute}, // :05 :25 :45, then :05
		{"0/25 * * * *", 25 * time.Minute}, // :00 :25 :50, then :00
		{"@weekly", 7 * 24 * time.Hour},
		{"@midnight", 24 * time.Hour},
		{"@every 90m", 90 * time.Minute},
		// Both day fields restricted: either matches (cron(8)), so the 1st
		// and every Sunday; the longest gap is a week.
		{"0 0 1 * 0", 7 * 24 * time.Hour},
		{"0 0 1 1 *", 365 * 24 * time.Hour}, // 2026, 2027, 2028 within the two years
		{"0 0 30 2 *", window},              // never runs: no gap to speak of
	} {
		got, err := LongestGap(c.schedule)
		require.NoError(t, err, c.schedule)
		assert.Equal(t, c.want, got, c.schedule)
		if c.schedule != "@every 90m" && c.want != window {
			assert.Equal(t, c.want, gapByNext(t, c.schedule), "%s: the run times the CronJob controller computes", c.schedule)
		}
	}
}

// gapByNext walks the parser's own Next from run to run over the same
// window: what LongestGap's day-by-day walk must agree with.
func gapByNext(t *testing.T, schedule string) time.Duration {
	s, err := Parse(schedule)
	require.NoError(t, err)
	var longest time.Duration
	last := s.Next(start)
	for next := s.Next(last); !next.IsZero() && next.Sub(start) < window; next = s.Next(last) {
		longest = max(longest, next.Sub(last))
		last = next
	}
	return longest
}

// TestParseAcceptsWhatTheAPIServerAccepts: the macros Kubernetes documents
// are accepted (the five-field check this replaced refused @midnight and
// @annually); what the API server refuses at `pulumi up` is refused here,
// at preview (the check this replaced accepted "61 * * * *"; a time zone,
// which the parser itself takes, is refused by the API server's own rule).
func TestParseAcceptsWhatTheAPIServerAccepts(t *testing.T) {
	for _, ok := range []string{"0 * * * *", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly",
		"0 9 * * mon-fri", "0 0 ? * *", "15 3 1,15 jan,jul *"} {
		_, err := Parse(ok)
		assert.NoError(t, err, ok)
	}
	for _, bad := range []string{"", "* * * *", "0 * * * * *", "61 * * * *", "0 24 * * *", "a * * * *", "*/0 * * * *",
		"0 0 31 2-1 *", "CRON_TZ=UTC 0 * * * *", "TZ=Europe/Berlin 0 * * * *", "@often"} {
		_, err := Parse(bad)
		assert.Error(t, err, bad)
	}
}

// BenchmarkLongestGapEveryMinute is the worst case a preview pays: a run
// every minute is a million steps over two years.
func BenchmarkLongestGapEveryMinute(b *testing.B) {
	for b.Loop() {
		if _, err := LongestGap("* * * * *"); err != nil {
			b.Fatal(err)
		}
	}
}
