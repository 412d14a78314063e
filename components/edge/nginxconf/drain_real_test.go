package nginxconf_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/anka-ha/anka-build-cloud-aws/components/edge/nginxconf"
	"github.com/anka-ha/anka-build-cloud-aws/components/edge/nginxconf/internal/nginxtest"
	"github.com/anka-ha/anka-build-cloud-aws/internal/poll"
)

// TestNGINXRealDrainsOnSIGQUITUntilWorkerShutdownTimeout is what the edge's
// drain chain relies on (components/edge/drain, invariant 3): when a pod
// stops, NGINX gets SIGQUIT (the official image's STOPSIGNAL) after its
// preStop sleep; it must stop accepting, let a push in flight finish, and cut
// it only when worker_shutdown_timeout ends, then exit by itself.
func TestNGINXRealDrainsOnSIGQUITUntilWorkerShutdownTimeout(t *testing.T) {
	t.Parallel()
	const size = 8 << 20
	const pause = 4 * time.Second // the client stalls mid-body; SIGQUIT arrives meanwhile

	type result struct {
		res      nginxtest.Result
		sum      string
		quitAt   time.Time
		exitedIn time.Duration // from SIGQUIT to the master's exit
		refused  error         // dialing the TLS port after SIGQUIT
		seen     nginxtest.Seen
		seenErr  error
	}
	run := func(t *testing.T, shutdownSeconds int) (*nginxtest.Harness, result) {
		h := startHarness(t, nginxtest.Options{Modify: func(s *nginxconf.Settings) {
			s.WorkerShutdownTimeoutSeconds = shutdownSeconds
		}})
		id := "drain"
		body := nginxtest.NewBody(7, size).PauseAfter(1<<20, pause)
		done := make(chan nginxtest.Result, 1)
		go func() {
			done <- nginxtest.Send(context.Background(), h.Client(&h.PKI.Valid), http.MethodPut,
				h.URL(nginxtest.RegistryHost, "/registry/v2/template"), body, size, id, nil)
		}()
		require.NoError(t, poll.Until(context.Background(), 5*time.Second, 20*time.Millisecond, "the upload to reach the upstream", func() error {
			if h.Registry.Arrived() > 0 {
				return nil
			}
			select {
			case res := <-done: // it never will: the push ended before it got there
				done <- res
				if res.Err != nil {
					return poll.Stop(fmt.Errorf("the push ended first: %w", res.Err))
				}
				return poll.Stop(fmt.Errorf("the push ended first: HTTP %d %s", res.Status, res.Body))
			default:
				return errors.New("no request at the registry upstream yet")
			}
		}))
		time.Sleep(500 * time.Millisecond) // well inside the client's pause
		var r result
		r.quitAt = time.Now()
		exited := make(chan time.Duration, 1)
		go func() {
			select {
			case <-h.NGINX.Exited():
				exited <- time.Since(r.quitAt)
			case <-time.After(time.Duration(shutdownSeconds)*time.Second + 10*time.Second):
				exited <- -1
			}
		}()
		require.NoError(t, syscall.Kill(h.NGINX.MasterPID(), syscall.SIGQUIT))
		time.Sleep(300 * time.Millisecond)
		if c, err := net.DialTimeout("tcp", h.TLSAddr, time.Second); err == nil {
			c.Close()
		} else {
			r.refused = err
		}
		r.res = <-done
		r.sum = body.SHA256()
		if r.exitedIn = <-exited; r.exitedIn < 0 {
			t.Fatalf("NGINX still running %ds after SIGQUIT with worker_shutdown_timeout %ds", shutdownSeconds+10, shutdownSeconds)
		}
		r.seen, r.seenErr = h.Registry.Wait(id, 5*time.Second)
		return h, r
	}

	t.Run("a push in flight finishes when it ends within worker_shutdown_timeout", func(t *testing.T) {
		t.Parallel()
		h, r := run(t, 20)
		assert.Contains(t, h.Conf, "\nworker_shutdown_timeout 20s;\n")
		assert.Error(t, r.refused, "after SIGQUIT NGINX accepts no new connection")
		require.NoError(t, r.res.Err)
		require.Equal(t, http.StatusOK, r.res.Status, r.res.Body)
		assert.Equal(t, int64(size), r.res.Reply.Bytes, "the upstream received every byte")
		assert.Equal(t, r.sum, r.res.Reply.SHA256)
		assert.Less(t, r.exitedIn, 15*time.Second, "and NGINX exits once it is done, not at the timeout")
		t.Logf("upload finished %.1f s after SIGQUIT; NGINX exited %.1f s after SIGQUIT", r.res.Elapsed.Seconds()-0.5, r.exitedIn.Seconds())
	})

	t.Run("a push still running when worker_shutdown_timeout ends is cut and NGINX exits", func(t *testing.T) {
		t.Parallel()
		h, r := run(t, 1)
		assert.Contains(t, h.Conf, "\nworker_shutdown_timeout 1s;\n")
		assert.True(t, r.res.Err != nil || r.res.Status != http.StatusOK, "the client sees the push fail, got HTTP %d", r.res.Status)
		require.NoError(t, r.seenErr)
		assert.Less(t, r.seen.Bytes, int64(size), "the upstream got part of the body only")
		assert.InDelta(t, 1, r.exitedIn.Seconds(), 1, "NGINX exited at the timeout, before the client resumed")
		t.Logf("cut: client err=%v status=%d; upstream got %d of %d bytes; NGINX exited %.1f s after SIGQUIT", r.res.Err, r.res.Status, r.seen.Bytes, size, r.exitedIn.Seconds())
	})
}

func TestWorkerShutdownTimeoutIsLeftOutUnlessSet(t *testing.T) {
	conf, err := nginxconf.Render(minimal())
	require.NoError(t, err)
	assert.NotContains(t, conf, "worker_shutdown_timeout", "0 leaves NGINX's default: wait for every request in flight")

	s := minimal()
	s.WorkerShutdownTimeoutSeconds = 3570
	conf, err = nginxconf.Render(s)
	require.NoError(t, err)
	main := parseConf(t, conf)
	assert.Equal(t, "3570s", main.arg(t, "worker_shutdown_timeout"), "a main-context directive")

	s.WorkerShutdownTimeoutSeconds = -1
	_, err = nginxconf.Render(s)
	var fe *nginxconf.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, nginxconf.KeyWorkerShutdownTimeoutSeconds, fe.Key)
}
