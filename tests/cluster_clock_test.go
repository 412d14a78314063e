package tests

import (
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/components/cluster"
)

// The stack tests run the program on the day the EKS calendar in
// components/cluster was copied, so a stack file's Kubernetes version does
// not start failing them (or warning) on the day EKS moves it to extended
// support. The running program reads the real clock; the calendar's own
// dates are tested in components/cluster and in cluster_firstup_test.go.
func init() {
	asOf, err := time.Parse(time.DateOnly, cluster.VersionCalendarAsOf)
	if err != nil {
		panic(err)
	}
	noon := asOf.Add(12 * time.Hour)
	cluster.Now = func() time.Time { return noon }
}
