// Package poll waits for a condition on a real program the tests run (etcd,
// nginx, a local Kubernetes): a log line, a metric, a listening port, an
// API object's state. Such programs get there in their own time, so a test
// asks again at an interval until a deadline, and when the deadline passes
// it must say what it waited for and why the last try was not it, since
// that is all a failed run leaves to go on.
//
// It does not import package testing: the edge's nginxtest, which a
// non-test benchmark program links, uses it too.
package poll

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Until calls cond every `every` until it returns nil (done), returns an
// error made by Stop (Until ends at once with it), or timeout or ctx ends.
//
// Any other error from cond means "not yet, because ...": Until keeps it as
// the last reason, and when the time is up its error names what and wraps
// that reason (and, if ctx ended first, ctx's cause), so errors.Is and
// errors.As see both. cond runs at least once, even on an ended ctx, so a
// condition that already holds is never reported as a timeout; the interval
// is counted from the end of one call to the start of the next, so a slow
// cond (a scrape, an etcdctl run) is not called back to back.
func Until(ctx context.Context, timeout, every time.Duration, what string, cond func() error) error {
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errTimedOut)
	defer cancel()
	wait := time.NewTimer(every)
	defer wait.Stop()
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if s := (*stopError)(nil); errors.As(err, &s) {
			// Stop(err) itself is replaced by err, so that Until's error does
			// not carry the mark on (into an outer Until's cond, say); one
			// that cond wrapped keeps cond's words, mark and all.
			if err == error(s) { //nolint:errorlint // identity, not a match: is err the mark itself?
				err = s.err
			}
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		wait.Reset(every)
		select {
		case <-ctx.Done():
			if cause := context.Cause(ctx); !errors.Is(cause, errTimedOut) {
				return fmt.Errorf("waiting for %s: %w (last: %w)", what, cause, err)
			}
			return fmt.Errorf("waiting for %s: timed out after %s: %w", what, timeout, err)
		case <-wait.C:
		}
	}
}

// errTimedOut is the cause of Until's own deadline, to tell it apart from
// a deadline or cancellation of the caller's ctx.
var errTimedOut = errors.New("timed out")

// Stop marks err as final: Until returns it (wrapped with what it waited
// for) without polling again. It is for a condition that can no longer
// come true (the process exited, the API refused the request), so the test
// fails with that reason now rather than with a timeout later. Stop(nil) is
// nil: done.
func Stop(err error) error {
	if err == nil {
		return nil
	}
	return &stopError{err}
}

// stopError is Stop's mark; it reads and unwraps as the error it carries.
type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }
func (e *stopError) Unwrap() error { return e.err }
