package harness

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fatalRecorder stands in for a test MustAwait should fail: it keeps the
// message instead of stopping the goroutine.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) { f.msg = fmt.Sprintf(format, args...) }

func TestAwaitResolvedAndSecretOutputs(t *testing.T) {
	value, known, secret := Await(pulumi.String("plain").ToStringOutput())
	assert.Equal(t, "plain", value)
	assert.True(t, known)
	assert.False(t, secret)

	value, known, secret = Await(pulumi.ToSecret(pulumi.String("hidden").ToStringOutput()))
	assert.Equal(t, "hidden", value)
	assert.True(t, known)
	assert.True(t, secret)

	value, known, secret = Await(pulumi.Unsecret(pulumi.ToSecret(pulumi.StringMap{"k": pulumi.String("v")}.ToStringMapOutput())))
	assert.Equal(t, map[string]string{"k": "v"}, value, "the element value, as an ApplyT callback gets it")
	assert.True(t, known)
	assert.False(t, secret)

	f := &fatalRecorder{TB: t}
	value, secret = MustAwait(f, pulumi.ToSecret(pulumi.Int(3).ToIntOutput()))
	assert.Empty(t, f.msg)
	assert.Equal(t, 3, value)
	assert.True(t, secret)
}

func TestAwaitWithoutAValue(t *testing.T) {
	t.Run("unknown: reported at once", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		value, known, secret := Await(pulumi.UnsafeUnknownOutput(nil))
		assert.Less(t, time.Since(start), AwaitTimeout/2)
		assert.Nil(t, value)
		assert.False(t, known)
		assert.False(t, secret)

		f := &fatalRecorder{TB: t}
		value, _ = MustAwait(f, pulumi.UnsafeUnknownOutput(nil))
		assert.Nil(t, value)
		assert.Contains(t, f.msg, "resolved unknown")
	})
	t.Run("rejected", func(t *testing.T) {
		t.Parallel()
		out := pulumi.String("x").ToStringOutput().ApplyT(func(string) (string, error) { return "", errors.New("boom") })
		_, known, _ := Await(out)
		assert.False(t, known)

		f := &fatalRecorder{TB: t}
		MustAwait(f, out)
		assert.Contains(t, f.msg, "boom")
	})
	t.Run("never resolves: given up after AwaitTimeout", func(t *testing.T) {
		t.Parallel()
		out := pending()
		start := time.Now()
		value, known, secret := Await(out)
		elapsed := time.Since(start)
		assert.GreaterOrEqual(t, elapsed, AwaitTimeout)
		assert.Less(t, elapsed, AwaitTimeout+2*time.Second)
		assert.Nil(t, value)
		assert.False(t, known)
		assert.False(t, secret)
	})
	t.Run("never resolves: MustAwait fails the test", func(t *testing.T) {
		t.Parallel()
		out := pending()
		f := &fatalRecorder{TB: t}
		value, _ := MustAwait(f, out)
		assert.Nil(t, value)
		assert.Contains(t, f.msg, "still pending after "+AwaitTimeout.String())
	})
}

// thing is an IAM policy as the fakes answer it (an arn the provider
// computes) plus the secret token Recorder.Outputs adds.
type thing struct {
	pulumi.CustomResourceState
	Arn   pulumi.StringOutput `pulumi:"arn"`
	Token pulumi.StringOutput `pulumi:"token"`
}

// TestAwaitInsideTheRunningProgram: the outputs of a resource, awaited in
// the program before RunErr returns, as the stack tests read the exports.
// Under Preview the computed arn stays unknown and Await says so without
// blocking the program.
func TestAwaitInsideTheRunningProgram(t *testing.T) {
	for _, preview := range []bool{false, true} {
		t.Run(fmt.Sprintf("preview=%v", preview), func(t *testing.T) {
			rec := NewRecorder()
			rec.Preview = preview
			rec.Outputs = func(pulumi.MockResourceArgs) resource.PropertyMap {
				return resource.PropertyMap{"token": resource.MakeSecret(resource.NewProperty("t0ken"))}
			}
			type got struct {
				value         any
				known, secret bool
			}
			var arn, token got
			run := Run
			if preview {
				run = Preview
			}
			start := time.Now()
			require.NoError(t, run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) error {
				var th thing
				if err := ctx.RegisterResource("aws:iam/policy:Policy", "thing", pulumi.Map{}, &th); err != nil {
					return err
				}
				arn.value, arn.known, arn.secret = Await(th.Arn)
				token.value, token.known, token.secret = Await(th.Token)
				return nil
			}))
			assert.Less(t, time.Since(start), AwaitTimeout, "nothing waited for the timeout")
			if preview {
				assert.Equal(t, got{}, arn, "a computed output is unknown in preview")
			} else {
				assert.Equal(t, got{value: "arn:aws:iam::" + AccountID + ":policy/thing", known: true}, arn)
			}
			assert.Equal(t, got{value: "t0ken", known: true, secret: true}, token)
		})
	}
}

// pending is an output that never resolves: its apply waits for ever.
func pending() pulumi.Output {
	never := make(chan string)
	return pulumi.String("x").ToStringOutput().ApplyT(func(string) string { return <-never })
}
