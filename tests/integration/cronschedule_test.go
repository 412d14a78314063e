package integration

import (
	"net/http"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/internal/cronschedule"
)

// cronScheduleRuleIsTheAPIServers: the real API server accepts exactly the
// backup schedules cronschedule.Parse accepts (the rule anka:etcd.backup.
// schedule is validated by at preview), so a schedule preview passes is one
// `up` can create, and one it refuses is one `up` would fail on.
func (e *env) cronScheduleRuleIsTheAPIServers(t *testing.T) {
	e.need(t)
	accepted, refused := 0, 0
	for _, schedule := range []string{
		"0 * * * *", "@hourly", "@midnight", "@annually", "@every 90m", "0 9 * * mon-fri", "0 0 ? * *", "0/25 * * * *",
		"61 * * * *", "0 24 * * *", "* * * *", "0 * * * * *", "*/0 * * * *", "0 0 31 2-1 *", "@often",
		"CRON_TZ=UTC 0 * * * *", "TZ=Europe/Berlin 0 * * * *",
	} {
		_, parseErr := cronschedule.Parse(schedule)
		_, err := e.kube.DryRunCreate(e.ctx, "/apis/batch/v1/namespaces/"+e.cfg.Namespace+"/cronjobs", map[string]any{
			"apiVersion": "batch/v1", "kind": "CronJob",
			"metadata": map[string]any{"name": "schedule-probe"},
			"spec": map[string]any{"schedule": schedule, "jobTemplate": map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
				"restartPolicy": "Never",
				"containers":    []any{map[string]any{"name": "probe", "image": "busybox:1.36.1-musl"}},
			}}}}},
		})
		switch {
		case err == nil:
			accepted++
			if parseErr != nil {
				t.Errorf("%q: the API server accepts it, preview refuses it: %v", schedule, parseErr)
			}
		case IsStatus(err, http.StatusUnprocessableEntity):
			refused++
			if parseErr == nil {
				t.Errorf("%q: preview accepts it, the API server refuses it: %v", schedule, err)
			}
		default:
			t.Fatalf("%q: %v", schedule, err)
		}
	}
	if accepted == 0 || refused == 0 {
		t.Fatalf("the probe needs schedules of both kinds: %d accepted, %d refused", accepted, refused)
	}
	t.Logf("the API server and cronschedule.Parse agree on %d accepted and %d refused schedules", accepted, refused)
}
