package harness

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
)

// AwaitTimeout bounds how long Await and MustAwait wait for an output. The
// mock answers every registration and invoke at once, so an output still
// pending after this is one nothing will ever resolve; without a bound the
// test would hang until `go test -timeout` kills the whole package.
const AwaitTimeout = 5 * time.Second

// Await resolves out, the way a stack export is resolved: its value, whether
// it is known, and whether it is secret. It works both after the program has
// returned and inside it (before RunErr returns), from any goroutine.
//
// known is false, and value nil, when the output resolved unknown (a
// provider-computed output under Preview), was rejected with an error, or
// did not resolve within AwaitTimeout. secret is the SDK's secretness of the
// output, as pulumi.IsSecret reports it.
func Await(out pulumi.Output) (value any, known, secret bool) {
	res, err := await(out)
	if err != nil || !res.Known {
		return nil, false, res.Secret
	}
	return res.Value, true, res.Secret
}

// MustAwait is Await for an output the test needs the value of: it fails
// the test, saying why, when the output has none (unknown, rejected or
// still pending after AwaitTimeout). Callers type-assert the value
// (v.(string)).
func MustAwait(t testing.TB, out pulumi.Output) (value any, secret bool) {
	t.Helper()
	res, err := await(out)
	switch {
	case err != nil:
		t.Fatalf("output %s has no value: %v", out.ElementType(), err)
		return nil, false
	case !res.Known:
		t.Fatalf("output %s resolved unknown: the mock computes no value for it", out.ElementType())
		return nil, false
	}
	return res.Value, res.Secret
}

// await waits for out's state. internals.UnsafeAwaitOutput (the SDK's own
// await, which pulumi.IsSecret uses too) tells an unknown output from a
// known one at once and reads value and secretness together; an ApplyT
// callback is simply never called for an unknown or rejected output, so it
// can only time out. The SDK's await does not wake up when its context is
// cancelled, hence the goroutine and the timer: on a timeout the goroutine
// stays blocked until the output resolves, if ever, which a test can afford.
func await(out pulumi.Output) (internals.UnsafeAwaitOutputResult, error) {
	type result struct {
		res internals.UnsafeAwaitOutputResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := internals.UnsafeAwaitOutput(context.Background(), out)
		done <- result{res, err}
	}()
	select {
	case r := <-done:
		return r.res, r.err
	case <-time.After(AwaitTimeout):
		return internals.UnsafeAwaitOutputResult{}, fmt.Errorf("still pending after %s", AwaitTimeout)
	}
}
