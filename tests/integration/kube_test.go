package integration

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/anka-ha/anka-build-cloud-aws/components/buildcloud"
	"github.com/anka-ha/anka-build-cloud-aws/components/edge"
	"github.com/anka-ha/anka-build-cloud-aws/components/etcd"
	"github.com/anka-ha/anka-build-cloud-aws/components/etcd/member"
	"github.com/anka-ha/anka-build-cloud-aws/components/storage"
	"github.com/anka-ha/anka-build-cloud-aws/stacks"
)

// TestDryRunCreateReturnsWarningsAndRefusals: DryRunCreate posts the object
// as JSON with dryRun=All and returns the API server's Warning headers, with
// an *APIError naming the request when it is refused.
func TestDryRunCreateReturnsWarningsAndRefusals(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.String()+" "+r.Header.Get("Content-Type")+" "+string(b))
		w.Header().Add("Warning", `299 - "would violate PodSecurity \"restricted:latest\""`)
		if r.URL.Path == "/refused" {
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"reason":"Forbidden"}`)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	k := &Kube{Server: srv.URL, client: srv.Client()}

	warnings, err := k.DryRunCreate(context.Background(), "/accepted", map[string]string{"kind": "Pod"})
	require.NoError(t, err)
	assert.Equal(t, []string{`299 - "would violate PodSecurity \"restricted:latest\""`}, warnings)

	warnings, err = k.DryRunCreate(context.Background(), "/refused", map[string]string{"kind": "Pod"})
	assert.True(t, IsStatus(err, http.StatusForbidden), "%v", err)
	assert.EqualError(t, err, `POST /refused?dryRun=All: HTTP 403: {"reason":"Forbidden"}`)
	assert.Len(t, warnings, 1, "a refusal's warnings are returned too")

	assert.Equal(t, []string{
		`POST /accepted?dryRun=All application/json {"kind":"Pod"}`,
		`POST /refused?dryRun=All application/json {"kind":"Pod"}`,
	}, got)
}

// TestPodReadsWhatBothTestsNeed: one Pod type decodes what the KWOK checks
// read (node, images, conditions) and the run-time state of a real
// kubelet's containers (Problems).
func TestPodReadsWhatBothTestsNeed(t *testing.T) {
	var p Pod
	require.NoError(t, json.Unmarshal([]byte(`{
		"metadata": {"name": "etcd-1"},
		"spec": {"nodeName": "node-b", "containers": [{"name": "etcd", "image": "quay.io/coreos/etcd:v3.6.16"}]},
		"status": {"phase": "Running", "podIP": "10.0.1.7",
			"conditions": [{"type": "Ready", "status": "True"}],
			"initContainerStatuses": [{"name": "tools", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}],
			"containerStatuses": [{"name": "etcd", "ready": true, "restartCount": 2,
				"state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s"}},
				"lastState": {"terminated": {"exitCode": 1, "reason": "Error", "message": "bad flag\n"}}}]}
	}`), &p))
	assert.True(t, p.Ready())
	assert.Equal(t, "quay.io/coreos/etcd:v3.6.16", p.Image("etcd"))
	assert.Equal(t, "etcd-1 node=node-b phase=Running ready=true", p.String())
	assert.Equal(t, "10.0.1.7", p.Status.PodIP)
	assert.Equal(t, []string{
		"container etcd restarted 2 times (last: exit 1 Error bad flag)",
		"container etcd waiting: CrashLoopBackOff back-off 10s",
	}, p.Problems())
}

// TestSchedulingReadsAsTheAPIServerWritesThem: the scheduler's refusal is
// read from PodScheduled only when it is Unschedulable (not while the pod
// is merely waiting), a node is Ready only by its Ready condition, and a
// CPU quantity reads back in both forms the API server writes.
func TestSchedulingReadsAsTheAPIServerWritesThem(t *testing.T) {
	var held, waiting Pod
	require.NoError(t, json.Unmarshal([]byte(`{"status": {"phase": "Pending", "conditions": [
		{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
		 "message": "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) had volume node affinity conflict."}]}}`), &held))
	require.NoError(t, json.Unmarshal([]byte(`{"status": {"phase": "Pending", "conditions": [
		{"type": "PodScheduled", "status": "False", "reason": "SchedulerError"}]}}`), &waiting))
	msg, refused := held.Unschedulable()
	assert.True(t, refused)
	assert.Contains(t, msg, "were unschedulable")
	_, refused = waiting.Unschedulable()
	assert.False(t, refused)

	var ready, initializing Node
	require.NoError(t, json.Unmarshal([]byte(`{"status": {"allocatable": {"cpu": "7910m"},
		"conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}]}}`), &ready))
	require.NoError(t, json.Unmarshal([]byte(`{"status": {"allocatable": {"cpu": "1k"}}}`), &initializing))
	assert.True(t, ready.Ready())
	assert.False(t, initializing.Ready())

	for q, want := range map[string]int64{"7910m": 7910, "8": 8000, ready.Status.Allocatable["cpu"]: 7910} {
		got, err := milliCPU(q)
		require.NoError(t, err, q)
		assert.Equal(t, want, got, q)
	}
	_, err := milliCPU(initializing.Status.Allocatable["cpu"])
	assert.Error(t, err, "KWOK's default 1k must not read as a shape")
}

// TestLocalConfigIsTheProgramsConfig: the harness reads Pulumi.local.yaml
// through the program's loader, so values the file leaves out come from the
// program's defaults (the harness once kept its own "500Gi", "ReadWriteMany"
// and 3 members), and a file value wins over them.
func TestLocalConfigIsTheProgramsConfig(t *testing.T) {
	root, err := RepoRoot()
	require.NoError(t, err)
	c, ps, err := LoadLocalConfig(root)
	require.NoError(t, err)
	require.NotNil(t, ps)
	assert.Equal(t, LocalConfig{
		Namespace: "anka", EdgeMode: "nlb-mtls",
		ControllerHostname: "anka.local.test", RegistryHostname: "anka-registry.local.test",
		EtcdClass: "anka-etcd", EtcdSizeGi: 20, EtcdReplicas: 3,
		EtcdImage: "anka.local/etcd:v3.6.16", BusyboxImage: "anka.local/busybox:1.35.0-4-deb12u1-b1", AWSCLIImage: "anka.local/awscli:2.9.19-1",
		ControllerImage: "anka.local/anka-standin:1",
		RegistryStorage: "pvc", RegistryClass: "anka-local-rwx", RegistrySize: "10Gi", RegistryAccessMode: "ReadWriteMany",
	}, c, "Pulumi.local.yaml as the program reads it")

	// A file that leaves the defaults to the program.
	dir := t.TempDir()
	for name, text := range map[string]string{
		"Pulumi.yaml": "name: anka\nruntime: go\n",
		StackFile:     "config:\n  anka:cluster:\n    mode: existing\n  anka:network:\n    mode: none\n",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600))
	}
	c, _, err = LoadLocalConfig(dir)
	require.NoError(t, err)
	assert.Equal(t, stacks.DefaultNamespace, c.Namespace)
	assert.Equal(t, edge.DefaultMode, c.EdgeMode)
	assert.Equal(t, storage.DefaultClassName, c.EtcdClass)
	assert.Equal(t, member.DefaultReplicas, c.EtcdReplicas)
	assert.Equal(t, etcd.DefaultImage, c.EtcdImage)
	assert.Equal(t, buildcloud.StoragePVC, c.RegistryStorage, "the default storage of an existing cluster")
	assert.Equal(t, buildcloud.DefaultPVCSize, c.RegistrySize)
	assert.Equal(t, buildcloud.DefaultPVCAccessMode, c.RegistryAccessMode)
}
