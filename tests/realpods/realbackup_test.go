package realpods

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"

	"github.com/anka-ha/anka-build-cloud-aws/internal/fakeaws"
	"github.com/anka-ha/anka-build-cloud-aws/internal/poll"
	"github.com/anka-ha/anka-build-cloud-aws/tests/integration"
)

// What the EKS Pod Identity Webhook adds to a pod whose service account
// names an IRSA role, and the region the fake AWS answers for.
const (
	irsaTokenDir    = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
	backupRegion    = "eu-west-1"
	backupRoleARN   = "arn:aws:iam::123456789012:role/anka-etcd-backup"
	backupCAMount   = "/etc/anka-test-aws"
	backupJobName   = "etcd-backup-now"
	backupSAName    = "etcd-backup"
	backupCronJob   = "etcd-backup"
	backupGoldenDev = "tests/testdata/dev.json"
)

// backupCronJobSpec is the etcd backup CronJob exactly as the program
// renders it for the dev stack (tests/testdata/dev.json, which
// TestStackGolden keeps equal to the program's output): the local stack
// has no backup, because the bucket and the IRSA role need AWS.
func backupCronJobSpec(t *testing.T, root string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, backupGoldenDev))
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Resources []struct {
			Type   string         `json:"type"`
			Inputs map[string]any `json:"inputs"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatalf("%s: %v", backupGoldenDev, err)
	}
	for _, r := range golden.Resources {
		if r.Type != "kubernetes:batch/v1:CronJob" {
			continue
		}
		if md, _ := r.Inputs["metadata"].(map[string]any); md["name"] == backupCronJob {
			return r.Inputs
		}
	}
	t.Fatalf("%s has no CronJob %s", backupGoldenDev, backupCronJob)
	return nil
}

// dig walks maps and the first element of arrays.
func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// backupJob: a Job made from the backup CronJob's template (as `kubectl
// create job --from=cronjob/etcd-backup` does) runs once on a real node
// under its own securityContext, init containers and volumes, gets its
// credentials the IRSA way (a projected service account token exchanged
// with a fake STS) and uploads a snapshot of the running cluster to a fake
// S3 (the same approach as components/etcd/member's backup test).
func (e *realEnv) backupJob(t *testing.T) {
	e.need(t)
	ns := e.cfg.Namespace
	cron := backupCronJobSpec(t, e.root)
	podSpec, _ := dig(cron, "spec", "jobTemplate", "spec", "template", "spec").(map[string]any)
	if podSpec == nil {
		t.Fatal("backup CronJob: no pod template")
	}
	var bucket, prefix string
	containers, _ := podSpec["containers"].([]any)
	for _, c := range containers {
		for _, ev := range dig(c, "env").([]any) {
			switch dig(ev, "name") {
			case "ANKA_BACKUP_BUCKET":
				bucket, _ = dig(ev, "value").(string)
			case "ANKA_BACKUP_PREFIX":
				prefix, _ = dig(ev, "value").(string)
			}
		}
	}
	if bucket == "" {
		t.Fatal("backup CronJob: no ANKA_BACKUP_BUCKET")
	}

	// The fake AWS listens where pods reach this machine: a node's address
	// (its bridge's gateway).
	nodeIP, err := e.realNodeIP()
	if err != nil {
		t.Fatal(err)
	}
	aws, err := fakeaws.New(t.TempDir(), net.JoinHostPort(nodeIP, "0"), backupRegion, bucket, backupRoleARN, e.acceptIRSAToken)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(aws.Close)

	// What the program creates with the CronJob: its service account (the
	// IRSA annotation is what the webhook reads; locally the test adds what
	// the webhook would).
	if _, err := e.kube.Create(e.ctx, "/api/v1/namespaces/"+ns+"/serviceaccounts", map[string]any{
		"apiVersion": "v1", "kind": "ServiceAccount",
		"metadata": map[string]any{"name": backupSAName, "annotations": map[string]any{"eks.amazonaws.com/role-arn": backupRoleARN}},
	}); err != nil {
		t.Fatal(err)
	}
	// Test plumbing: the fake AWS's CA, for AWS_CA_BUNDLE.
	if _, err := e.kube.Create(e.ctx, "/api/v1/namespaces/"+ns+"/configmaps", map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "anka-test-aws-ca"},
		"data":     map[string]any{"ca.pem": aws.CAPEM},
	}); err != nil {
		t.Fatal(err)
	}

	// The local stack's images (the CronJob names the public ones).
	images := map[string]string{"tools": e.cfg.BusyboxImage, "etcd-tools": e.cfg.EtcdImage, "backup": e.cfg.AWSCLIImage}
	for _, list := range []string{"initContainers", "containers"} {
		cs, _ := podSpec[list].([]any)
		for _, c := range cs {
			cm := c.(map[string]any)
			img, ok := images[cm["name"].(string)]
			if !ok {
				t.Fatalf("backup CronJob: unexpected container %v", cm["name"])
			}
			cm["image"] = img
			if cm["name"] != "backup" {
				continue
			}
			// The Pod Identity Webhook's additions, then the fake AWS's.
			env, _ := cm["env"].([]any)
			for _, kv := range [][2]string{
				{"AWS_ROLE_ARN", backupRoleARN}, {"AWS_WEB_IDENTITY_TOKEN_FILE", irsaTokenDir + "/token"},
				{"AWS_REGION", backupRegion}, {"AWS_DEFAULT_REGION", backupRegion}, {"AWS_STS_REGIONAL_ENDPOINTS", "regional"},
			} {
				env = append(env, map[string]any{"name": kv[0], "value": kv[1]})
			}
			for _, s := range aws.ClientEnv(backupCAMount + "/ca.pem") {
				k, v, _ := strings.Cut(s, "=")
				if k == "NO_PROXY" {
					// etcdctl (gRPC) honours HTTPS_PROXY too: the cluster's own names must not go
					// through the fake AWS (on loopback, the member test needs no more than localhost)
					v += ",.svc,.cluster.local"
				}
				env = append(env, map[string]any{"name": k, "value": v})
			}
			cm["env"] = env
			mounts, _ := cm["volumeMounts"].([]any)
			cm["volumeMounts"] = append(mounts,
				map[string]any{"name": "aws-iam-token", "mountPath": irsaTokenDir, "readOnly": true},
				map[string]any{"name": "anka-test-aws-ca", "mountPath": backupCAMount, "readOnly": true})
		}
	}
	vols, _ := podSpec["volumes"].([]any)
	podSpec["volumes"] = append(vols,
		map[string]any{"name": "aws-iam-token", "projected": map[string]any{"sources": []any{map[string]any{
			"serviceAccountToken": map[string]any{"audience": "sts.amazonaws.com", "expirationSeconds": 86400, "path": "token"}}}}},
		map[string]any{"name": "anka-test-aws-ca", "configMap": map[string]any{"name": "anka-test-aws-ca"}})

	job := map[string]any{
		"apiVersion": "batch/v1", "kind": "Job",
		"metadata": map[string]any{"name": backupJobName, "annotations": map[string]any{"cronjob.kubernetes.io/instantiate": "manual"}},
		"spec":     dig(cron, "spec", "jobTemplate", "spec"),
	}
	start := time.Now()
	if _, err := e.kube.Create(e.ctx, "/apis/batch/v1/namespaces/"+ns+"/jobs", job); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // with its pod: a failed one would keep retrying through the next scenarios
		_, _ = e.kube.Do(e.ctx, "DELETE", "/apis/batch/v1/namespaces/"+ns+"/jobs/"+backupJobName+"?propagationPolicy=Background", "", nil)
	})
	var pods []integration.Pod
	err = poll.Until(e.ctx, 4*time.Minute, 250*time.Millisecond, "the backup Job to succeed", func() error {
		var j struct {
			Status struct{ Succeeded, Failed int }
		}
		if err := e.kube.Get(e.ctx, "/apis/batch/v1/namespaces/"+ns+"/jobs/"+backupJobName, &j); err != nil {
			return poll.Stop(err)
		}
		if pods, err = e.kube.Pods(e.ctx, ns, "job-name="+backupJobName); err != nil {
			return poll.Stop(err)
		}
		var probs []string
		for _, p := range pods {
			probs = append(probs, p.Problems()...)
		}
		if len(probs) > 0 {
			return nil // reported below: a backup pod must not need a retry
		}
		if j.Status.Succeeded != 1 {
			return fmt.Errorf("succeeded=%d failed=%d", j.Status.Succeeded, j.Status.Failed)
		}
		return nil
	})
	for _, p := range pods {
		for _, prob := range p.Problems() {
			t.Errorf("backup pod %s: %s", p.Metadata.Name, prob)
		}
		if t.Failed() || err != nil {
			for _, c := range []string{"tools", "etcd-tools", "backup"} {
				t.Logf("%s:\n%s", c, e.kube.KubectlOutput(e.ctx, "-n", ns, "logs", p.Metadata.Name, "-c", c, "--tail", "30"))
			}
			t.Logf("backup, the failed run:\n%s", e.kube.KubectlOutput(e.ctx, "-n", ns, "logs", p.Metadata.Name, "-c", "backup", "--previous", "--tail", "30"))
			// the kubelets' own copies, every run of every container (kubectl shows the last two)
			files, _ := filepath.Glob(filepath.Join(e.runDir, "realnode", "node-*", "pods-logs", ns+"_"+p.Metadata.Name+"_*", "*", "*.log"))
			for _, f := range files {
				b, _ := os.ReadFile(f)
				t.Logf("%s:\n%s", f, b)
			}
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("backup Job succeeded in %.1fs", time.Since(start).Seconds())

	objs, err := aws.Backend.ListBucket(bucket, &gofakes3.Prefix{HasPrefix: true, Prefix: prefix + "/"}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs.Contents) != 1 {
		t.Fatalf("want one snapshot under s3://%s/%s/, got %d (unexpected requests: %v)", bucket, prefix, len(objs.Contents), aws.Unexpected())
	}
	key := objs.Contents[0].Key
	obj, err := aws.Backend.GetObject(bucket, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Contents.Close()
	body, err := io.ReadAll(obj.Contents)
	if err != nil {
		t.Fatal(err)
	}
	if obj.Metadata["X-Amz-Meta-Etcd-Revision"] == "" || len(body) < 4096 {
		t.Errorf("s3://%s/%s: %d bytes, metadata %v: want a snapshot with its etcd revision", bucket, key, len(body), obj.Metadata)
	}
	if calls := aws.STSCalls(); len(calls) == 0 {
		t.Error("the backup pod never asked STS for credentials (IRSA)")
	}
	if u := aws.Unexpected(); len(u) > 0 {
		t.Errorf("unexpected AWS requests: %v", u)
	}
	t.Logf("s3://%s/%s: %d bytes, revision %s", bucket, key, len(body), obj.Metadata["X-Amz-Meta-Etcd-Revision"])
}

// realNodeIP is a real node's InternalIP: its bridge's gateway, which every
// pod reaches.
func (e *realEnv) realNodeIP() (string, error) {
	var l struct {
		Items []struct {
			Status struct {
				Addresses []struct{ Type, Address string }
			}
		}
	}
	if err := e.kube.Get(e.ctx, "/api/v1/nodes?labelSelector=anka.io%2Freal-node%3Dtrue", &l); err != nil {
		return "", err
	}
	for _, n := range l.Items {
		for _, a := range n.Status.Addresses {
			if a.Type == "InternalIP" {
				return a.Address, nil
			}
		}
	}
	return "", fmt.Errorf("no real node with an InternalIP")
}

// acceptIRSAToken is the fake STS's check of the web identity token: a
// service account token of the backup's service account for audience
// sts.amazonaws.com (the signature is the API server's; not verified here).
func (e *realEnv) acceptIRSAToken(token string) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return fmt.Errorf("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return err
	}
	var claims struct {
		Sub string   `json:"sub"`
		Aud []string `json:"aud"`
	}
	if err := json.Unmarshal(b, &claims); err != nil {
		return err
	}
	want := "system:serviceaccount:" + e.cfg.Namespace + ":" + backupSAName
	if claims.Sub != want || !slices.Contains(claims.Aud, "sts.amazonaws.com") {
		return fmt.Errorf("token for %s %v, want %s for sts.amazonaws.com", claims.Sub, claims.Aud, want)
	}
	return nil
}
