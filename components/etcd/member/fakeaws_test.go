package member

import (
	"fmt"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/internal/fakeaws"
)

// newFakeAWS starts internal/fakeaws for one test: its proxy on loopback,
// STS accepting exactly token (the projected service-account token the pod
// reads) for roleARN, stopped when the test ends.
func newFakeAWS(t *testing.T, dir, region, bucket, roleARN, token string) *testFakeAWS {
	t.Helper()
	f, err := fakeaws.New(dir, "127.0.0.1:0", region, bucket, roleARN, func(got string) error {
		if got != token {
			return fmt.Errorf("not the pod's projected token")
		}
		return nil
	})
	must(t, err)
	t.Cleanup(f.Close)
	return &testFakeAWS{f}
}

// testFakeAWS is the fake as a process on this machine sees it: the CA
// bundle at the path the fake wrote it to.
type testFakeAWS struct{ *fakeaws.FakeAWS }

// ClientEnv is the test plumbing added to the pod's environment: the proxy and the CA bundle.
func (f *testFakeAWS) ClientEnv() []string { return f.FakeAWS.ClientEnv(f.CAFile) }
