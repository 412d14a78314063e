package poll

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errNotYet = errors.New("not yet")

// long stands for "much longer than the test may take" where a broken
// Until would wait it out: long enough to tell, short enough not to hang.
const long = 3 * time.Second

// exitError is a typed reason, to check that errors.As sees through Until.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exited with status %d", e.code) }

func TestUntilReturnsAtTheFirstSuccess(t *testing.T) {
	t.Run("already true: no wait at all", func(t *testing.T) {
		calls := 0
		start := time.Now()
		err := Until(context.Background(), long, long, "a condition that holds", func() error {
			calls++
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 1, calls)
		assert.Less(t, time.Since(start), time.Second, "the interval must not be slept once cond is done")
	})
	t.Run("true on the third call: no fourth", func(t *testing.T) {
		calls := 0
		start := time.Now()
		err := Until(context.Background(), long, 10*time.Millisecond, "the third call", func() error {
			calls++
			if calls < 3 {
				return errNotYet
			}
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 3, calls)
		assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond, "two intervals between three calls")
		assert.Less(t, time.Since(start), long/2)
	})
}

func TestUntilEndsAtOnceOnStop(t *testing.T) {
	cause := &exitError{code: 3}
	for name, stop := range map[string]error{
		"Stop(err)":                   Stop(cause),
		"Stop(err) wrapped with more": fmt.Errorf("etcd-2: %w", Stop(cause)),
	} {
		t.Run(name, func(t *testing.T) {
			calls := 0
			start := time.Now()
			err := Until(context.Background(), long, 10*time.Millisecond, "etcd-2 to log its decision", func() error {
				calls++
				return stop
			})
			require.Error(t, err)
			assert.Equal(t, 1, calls, "a Stop error must end the polling")
			assert.Less(t, time.Since(start), time.Second)
			assert.ErrorIs(t, err, cause)
			var ee *exitError
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, 3, ee.code)
			assert.Equal(t, "waiting for etcd-2 to log its decision: "+stop.Error(), err.Error())
		})
	}
	assert.NoError(t, Stop(nil), "Stop(nil) is done")

	t.Run("Until's error is no Stop for an outer Until", func(t *testing.T) {
		inner := Until(context.Background(), long, 10*time.Millisecond, "the inner", func() error { return Stop(cause) })
		calls := 0
		err := Until(context.Background(), long, 10*time.Millisecond, "the outer", func() error {
			if calls++; calls < 3 {
				return inner // not yet
			}
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 3, calls)
	})
}

func TestUntilTimesOutWithTheLastReason(t *testing.T) {
	calls := 0
	start := time.Now()
	err := Until(context.Background(), 100*time.Millisecond, 10*time.Millisecond, "three voting members", func() error {
		calls++
		return fmt.Errorf("try %d: %w", calls, errNotYet)
	})
	elapsed := time.Since(start)
	require.Error(t, err)
	assert.Greater(t, calls, 2, "cond must be called again until the timeout")
	assert.GreaterOrEqual(t, elapsed, 100*time.Millisecond, "must not give up before the timeout")
	assert.Less(t, elapsed, long)
	assert.Equal(t, fmt.Sprintf("waiting for three voting members: timed out after 100ms: try %d: not yet", calls), err.Error(),
		"the error names what and carries the last reason, not an earlier one")
	assert.ErrorIs(t, err, errNotYet)
}

func TestUntilEndsWithItsContext(t *testing.T) {
	t.Run("cancelled before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		calls := 0
		err := Until(ctx, long, 10*time.Millisecond, "the budget used up", func() error {
			calls++
			return errNotYet
		})
		assert.Equal(t, 1, calls, "cond runs once, then the ended ctx ends Until")
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, errNotYet)
		assert.EqualError(t, err, "waiting for the budget used up: context canceled (last: not yet)")
	})
	t.Run("cancelled while waiting", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		err := Until(ctx, long, long, "every pod Ready", func() error { return errNotYet })
		assert.Less(t, time.Since(start), long/2, "a cancel must cut the interval short")
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, errNotYet)
	})
	t.Run("the caller's deadline is not Until's timeout", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		err := Until(ctx, long, 10*time.Millisecond, "six Ready nodes", func() error { return errNotYet })
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorIs(t, err, errNotYet)
		assert.NotContains(t, err.Error(), "timed out after", "Until's own timeout did not pass")
	})
}
