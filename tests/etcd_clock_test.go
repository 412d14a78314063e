package tests

import (
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/components/etcd"
)

// etcdTestNow is the clock etcd's validation reads in the stack tests: the
// day of the stack files' anka:etcd.tls.notBefore, so their certificates do
// not start warning (or failing) the tests when they near expiry. The
// running program reads the real clock; the dates' rules are tested in
// components/etcd (TestEtcdTLSValidation, TestEtcdTLSWarnsBeforeExpiry).
var etcdTestNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func init() { etcd.Now = func() time.Time { return etcdTestNow } }
