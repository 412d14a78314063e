package realpods

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/components/edge"
	"github.com/anka-ha/anka-build-cloud-aws/internal/poll"
	"github.com/anka-ha/anka-build-cloud-aws/internal/realproc"
	"github.com/anka-ha/anka-build-cloud-aws/tests/integration"
)

// realEnv is what the real-pod scenarios share.
type realEnv struct {
	ctx      context.Context
	root     string
	runDir   string // the control plane's (scripts/localcluster.sh's ANKA_LOCAL_RUN)
	kube     *integration.Kube
	cfg      integration.LocalConfig
	secrets  *integration.Secrets
	deployed bool
	// clusterID and memberIDs (by pod name) of etcd after the first up.
	clusterID uint64
	memberIDs map[string]uint64
}

// Where the etcd pods keep their TLS material (member.DefaultTLSDir), and
// the key the scenarios write and read back.
const (
	etcdTLSDir  = "/etc/etcd/tls"
	etcdKey     = "/anka-integration/real-pods"
	etcdService = "etcd-client"
)

// TestLocalRealPods deploys Pulumi.local.yaml with the real engine onto the
// local control plane with three real nodes (scripts/realnode.sh:
// containerd, runc, bridge CNI, kube-proxy, CoreDNS; kubelets of the same
// version as the API server), where the containers really run from images
// built on this machine (scripts/realimages.sh), and checks what only a
// container runtime shows: every pod Ready under its real securityContext
// and none restarting, etcd forming one cluster through the headless
// Service's names, NGINX serving mTLS to the stand-in Controller/Registry,
// and etcd coming back from a lost pod and a lost volume.
func TestLocalRealPods(t *testing.T) {
	if os.Getenv("ANKA_INTEGRATION") != "1" {
		t.Skip("real pods on local kubelets: set ANKA_INTEGRATION=1 (make test and .ci/run do; needs root, Debian's containerd, runc, containernetworking-plugins and iptables from scripts/deps.sh)")
	}
	if os.Getenv("ANKA_REAL_PODS") == "0" {
		t.Skip("ANKA_REAL_PODS=0: the real-pod test is turned off")
	}
	if os.Geteuid() != 0 {
		t.Fatal("real nodes need root (containerd, kubelet, bridges, iptables); ANKA_REAL_PODS=0 skips this test")
	}
	begin := time.Now()
	root, err := integration.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tools, err := integration.FindTools(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	t.Cleanup(cancel)
	tmp := t.TempDir()
	// Kept when the test fails: the logs only (tmp also holds the nodes'
	// containerd state and the volumes).
	engineLog, err := integration.EngineLog(t, tmp, func(keep string) error {
		for _, glob := range []string{"engine.log", "cluster/logs/*.log", "cluster/realnode/logs/*.log"} {
			files, _ := filepath.Glob(filepath.Join(tmp, glob))
			for _, f := range files {
				if b, err := os.ReadFile(f); err == nil {
					_ = os.WriteFile(filepath.Join(keep, filepath.Base(f)), b, 0o644)
				}
			}
		}
		// the containers' own logs, which the kubelets keep under the run dir
		copyPodLogs(tmp, keep)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// One set of real nodes per machine (bridges, iptables, the nodes' fixed ports): a second run of this
	// test (another checkout's `make test`) waits here for the first instead of failing to start.
	if err := os.MkdirAll(filepath.Join(tools.Cache, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(filepath.Join(tools.Cache, "run", "realpods.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Close() }) // closing releases the lock, after the nodes stopped (cleanups run last-in first-out)
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Logf("another run holds %s (real nodes are one set per machine): waiting for it", lock.Name())
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
			t.Fatal(err)
		}
	}

	ports, err := integration.FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	cl, err := integration.StartClusterNodes(ctx, tools, filepath.Join(tmp, "cluster"), ports, integration.NodesReal, engineLog)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cl.Stop(context.Background()); err != nil {
			t.Errorf("stop the local control plane and its real nodes: %v", err)
		}
	})
	t.Logf("control plane and three real nodes ready in %.1fs", time.Since(t0).Seconds())

	cfg, _, err := integration.LoadLocalConfig(root)
	if err != nil {
		t.Fatal(err)
	}
	si := cfg.StandIns()
	si.HostDir = filepath.Join(tmp, "volumes")
	if _, err := cl.Kube.EnsureStandIns(ctx, si); err != nil {
		t.Fatal(err)
	}
	secrets, err := integration.NewSecrets([]string{cfg.ControllerHostname, cfg.RegistryHostname})
	if err != nil {
		t.Fatal(err)
	}
	kc, err := cl.Kubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	st, err := integration.OpenStack(ctx, integration.StackOptions{Tools: tools, StateDir: filepath.Join(tmp, "state"), Kubeconfig: kc, Secrets: secrets, Progress: engineLog})
	if err != nil {
		t.Fatal(err)
	}
	e := &realEnv{ctx: ctx, root: root, runDir: cl.RunDir, kube: cl.Kube, cfg: cfg, secrets: secrets}
	// No final destroy: the cluster and its nodes are thrown away with their pods (stopping them kills the
	// containers). DestroyThenUpReattachesData destroys and brings the stack back once, on real volumes.
	t.Cleanup(func() { t.Logf("whole test %.1fs", time.Since(begin).Seconds()) })

	t.Run("UpRunsEveryPod", func(t *testing.T) {
		up, err := st.Up(ctx)
		if err != nil {
			t.Log(cl.Kube.KubectlOutput(ctx, "-n", cfg.Namespace, "get", "pods", "-o", "wide"))
			t.Fatalf("up: %v", err)
		}
		t.Log(up)
		for _, s := range up.Slowest(5) {
			t.Logf("  slowest: %s", s)
		}
		e.deployed = true
		e.everyPodReady(t)
	})
	t.Run("PodsRunAsTheirSecurityContext", e.podsRunConfined)
	t.Run("NamespaceEnforcesBaselineWarnsRestricted", e.namespacePodSecurity)
	t.Run("EtcdOneClusterThroughHeadlessNames", e.etcdOneCluster)
	t.Run("EdgeServesMTLS", e.edgeMTLS)
	t.Run("BackupJobUploadsSnapshot", e.backupJob)
	t.Run("EtcdPodDeletedComesBackWithData", e.etcdPodDeleted)
	t.Run("EtcdClaimDeletedRejoins", e.etcdClaimDeleted)
	t.Run("PDBRefusesEvictionWhileAMemberIsDown", e.pdbRefusesSecondEviction)
	t.Run("DestroyThenUpReattachesData", func(t *testing.T) { e.destroyThenUp(t, st) })
	t.Run("NoRestartsAtTheEnd", func(t *testing.T) {
		e.need(t)
		e.everyPodReady(t)
		// the members back on volumes their non-root predecessors wrote
		e.podsRunConfined(t)
	})
}

// copyPodLogs copies the containers' logs (<run>/realnode/node-*/pods-logs) into keep.
func copyPodLogs(tmp, keep string) {
	logs, _ := filepath.Glob(filepath.Join(tmp, "cluster", "realnode", "node-*", "pods-logs", "*", "*", "*.log"))
	for _, f := range logs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		rel, _ := filepath.Rel(filepath.Join(tmp, "cluster", "realnode"), f)
		name := strings.ReplaceAll(rel, string(filepath.Separator), "_")
		_ = os.WriteFile(filepath.Join(keep, name), b, 0o644)
	}
}

func (e *realEnv) need(t *testing.T) {
	t.Helper()
	if !e.deployed {
		t.Fatal("needs the workload deployed by UpRunsEveryPod, which failed")
	}
}

// needMemberIDs is need for a scenario that compares the etcd members with
// those EtcdOneClusterThroughHeadlessNames recorded.
func (e *realEnv) needMemberIDs(t *testing.T) {
	t.Helper()
	e.need(t)
	if e.memberIDs == nil {
		t.Fatal("needs the member IDs from EtcdOneClusterThroughHeadlessNames")
	}
}

// everyPodReady: every pod of the namespace runs Ready (a Job's pod has
// completed), and no container restarted or failed.
func (e *realEnv) everyPodReady(t *testing.T) {
	t.Helper()
	var pods []integration.Pod
	err := poll.Until(e.ctx, 3*time.Minute, 250*time.Millisecond, "every pod Ready", func() error {
		var err error
		if pods, err = e.kube.Pods(e.ctx, e.cfg.Namespace, ""); err != nil {
			return poll.Stop(err)
		}
		pods = slices.DeleteFunc(pods, func(p integration.Pod) bool { return p.Metadata.DeletionTimestamp != nil })
		for _, p := range pods {
			if probs := p.Problems(); len(probs) > 0 {
				return nil // reported below
			}
			if p.Status.Phase != "Succeeded" && !p.Ready() {
				return errors.New(p.Metadata.Name + " not Ready (" + p.Status.Phase + ")")
			}
		}
		if len(pods) == 0 {
			return errors.New("no pods")
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	for _, p := range pods {
		for _, prob := range p.Problems() {
			t.Errorf("pod %s on %s: %s", p.Metadata.Name, p.Spec.NodeName, prob)
		}
	}
	if t.Failed() {
		t.Log(e.kube.KubectlOutput(e.ctx, "-n", e.cfg.Namespace, "get", "pods", "-o", "wide"))
	} else {
		t.Logf("%d pods Ready, no restarts", len(pods))
	}
}

// etcdctl runs etcdctl in an etcd pod with the member's client certificate.
func (e *realEnv) etcdctl(pod string, args ...string) (string, error) {
	cmd := append([]string{"/usr/local/bin/etcdctl", "--command-timeout=20s",
		"--cacert", etcdTLSDir + "/ca.crt", "--cert", etcdTLSDir + "/client.crt", "--key", etcdTLSDir + "/client.key"}, args...)
	return e.kube.Exec(e.ctx, e.cfg.Namespace, pod, "etcd", cmd...)
}

func (e *realEnv) clientURL() string {
	return fmt.Sprintf("https://%s.%s.svc.cluster.local:2379", etcdService, e.cfg.Namespace)
}

func (e *realEnv) members(t *testing.T, pod string) realproc.MemberList {
	t.Helper()
	out, err := e.etcdctl(pod, "--endpoints", e.clientURL(), "member", "list", "-w", "json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := realproc.ParseMemberList(out)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// etcdOneCluster: three voting members, named after the pods, whose peer
// URLs are the headless Service's DNS names, one cluster ID seen from every
// member; a key written through the client Service is read back from each.
func (e *realEnv) etcdOneCluster(t *testing.T) {
	e.need(t)
	m := e.members(t, "etcd-0")
	if len(m.Members) != e.cfg.EtcdReplicas {
		t.Fatalf("member list: %d members, want %d: %+v", len(m.Members), e.cfg.EtcdReplicas, m.Members)
	}
	e.memberIDs = map[string]uint64{}
	for _, mem := range m.Members {
		if mem.IsLearner {
			t.Errorf("member %s is still a learner", mem.Name)
		}
		want := fmt.Sprintf("https://%s.etcd-headless.%s.svc.cluster.local:2380", mem.Name, e.cfg.Namespace)
		if len(mem.PeerURLs) != 1 || mem.PeerURLs[0] != want {
			t.Errorf("member %s peer URLs %v, want [%s]", mem.Name, mem.PeerURLs, want)
		}
		e.memberIDs[mem.Name] = mem.ID
	}
	e.clusterID = m.Header.ClusterID
	if _, err := e.etcdctl("etcd-0", "--endpoints", e.clientURL(), "put", etcdKey, "written-through-the-client-service"); err != nil {
		t.Fatal(err)
	}
	for i := range e.cfg.EtcdReplicas {
		pod := fmt.Sprintf("etcd-%d", i)
		// each member's own endpoint, by its headless name: its status and
		// a linearizable read through it
		self := fmt.Sprintf("https://%s.etcd-headless.%s.svc.cluster.local:2379", pod, e.cfg.Namespace)
		out, err := e.etcdctl(pod, "--endpoints", self, "endpoint", "status", "-w", "json")
		if err != nil {
			t.Fatal(err)
		}
		var st []struct {
			Status struct {
				Header struct {
					ClusterID uint64 `json:"cluster_id"`
					MemberID  uint64 `json:"member_id"`
				} `json:"header"`
			} `json:"Status"`
		}
		if err := json.Unmarshal([]byte(out), &st); err != nil || len(st) != 1 {
			t.Fatalf("endpoint status of %s: %v: %s", pod, err, out)
		}
		if st[0].Status.Header.ClusterID != e.clusterID {
			t.Errorf("%s is in cluster %x, etcd-0 in %x", pod, st[0].Status.Header.ClusterID, e.clusterID)
		}
		if st[0].Status.Header.MemberID != e.memberIDs[pod] {
			t.Errorf("%s answers as member %x, the member list has %x for it", pod, st[0].Status.Header.MemberID, e.memberIDs[pod])
		}
		got, err := e.etcdctl(pod, "--endpoints", self, "get", etcdKey, "--print-value-only")
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(got) != "written-through-the-client-service" {
			t.Errorf("%s reads %q for %s", pod, got, etcdKey)
		}
	}
	t.Logf("etcd cluster %x, members %v", e.clusterID, e.memberIDs)
}

// edgeMTLS: through the NLB Service's cluster IP, NGINX answers with the
// stand-in Controller or Registry behind it for a client with a
// certificate of the configured CA, passes the identity headers, and
// refuses a client without one.
func (e *realEnv) edgeMTLS(t *testing.T) {
	e.need(t)
	ip, err := e.kube.ServiceIP(e.ctx, e.cfg.Namespace, edge.ServiceName)
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort(ip, strconv.Itoa(edge.DefaultNLBPort))
	for host, role := range map[string]string{e.cfg.ControllerHostname: "controller", e.cfg.RegistryHostname: "registry"} {
		code, body, err := integration.HTTPSThrough(e.ctx, addr, host, "/identity", e.secrets.EdgeCA, e.secrets.ClientCert, e.secrets.ClientKey)
		if err != nil {
			t.Fatalf("%s with a client certificate: %v", host, err)
		}
		var echo struct {
			Role    string            `json:"role"`
			Host    string            `json:"host"`
			Headers map[string]string `json:"headers"`
		}
		if code != 200 || json.Unmarshal(body, &echo) != nil {
			t.Fatalf("%s with a client certificate: HTTP %d %s", host, code, body)
		}
		if echo.Role != role || echo.Host != host {
			t.Errorf("%s reached %q for host %q, want the %s", host, echo.Role, echo.Host, role)
		}
		if v := echo.Headers["Ssl-Client-Verify"]; v != "SUCCESS" {
			t.Errorf("%s: Ssl-Client-Verify %q, want SUCCESS (headers %v)", host, v, echo.Headers)
		}
		if v := echo.Headers["X-Client-Subject"]; v != "CN=anka-local-admin" {
			t.Errorf("%s: X-Client-Subject %q, want the client certificate's subject CN=anka-local-admin", host, v)
		}
		if echo.Headers["Ssl-Client-Cert"] == "" {
			t.Errorf("%s: no Ssl-Client-Cert header", host)
		}
		t.Logf("%s -> %s with Ssl-Client-Verify %s, X-Client-Subject %s", host, echo.Role, echo.Headers["Ssl-Client-Verify"], echo.Headers["X-Client-Subject"])

		code, body, err = integration.HTTPSThrough(e.ctx, addr, host, "/identity", e.secrets.EdgeCA, "", "")
		if err == nil && code < 400 {
			t.Errorf("%s without a client certificate: HTTP %d %s, want refused", host, code, body)
		} else {
			t.Logf("%s without a client certificate: refused (HTTP %d, %v)", host, code, err)
		}
	}
}

// waitEtcdPod waits for pod to be Ready with another UID than old.
func (e *realEnv) waitEtcdPod(t *testing.T, pod, oldUID string) {
	t.Helper()
	err := poll.Until(e.ctx, 4*time.Minute, 250*time.Millisecond, pod+" back and Ready", func() error {
		pods, err := e.kube.Pods(e.ctx, e.cfg.Namespace, "app.kubernetes.io/name=etcd")
		if err != nil {
			return poll.Stop(err)
		}
		for _, p := range pods {
			if p.Metadata.Name == pod && p.Metadata.UID != oldUID {
				if !p.Ready() {
					return fmt.Errorf("%s %s ready=false %v", pod, p.Status.Phase, p.Problems())
				}
				return nil
			}
		}
		return errors.New(pod + " not recreated yet")
	})
	if err != nil {
		e.logEtcdState(t)
		t.Fatal(err)
	}
}

// logEtcdState logs what a failed etcd scenario needs to be understood
// afterwards: every member's log (the current and the previous container:
// member.sh's decisions and etcd's own reasons, e.g. a refused member add)
// and the cluster as the other members see it. The later scenarios replace
// these pods, and their logs with them.
func (e *realEnv) logEtcdState(t *testing.T) {
	t.Helper()
	ns := e.cfg.Namespace
	t.Log(e.kube.KubectlOutput(e.ctx, "-n", ns, "get", "pods", "-o", "wide"))
	for i := range e.cfg.EtcdReplicas {
		pod := fmt.Sprintf("etcd-%d", i)
		for _, which := range []string{"--previous=false", "--previous=true"} {
			t.Logf("%s %s:\n%s", pod, which, e.kube.KubectlOutput(e.ctx, "-n", ns, "logs", pod, "-c", "etcd", which, "--tail", "150"))
		}
		for _, args := range [][]string{{"member", "list", "-w", "table"}, {"endpoint", "status", "--cluster", "-w", "table"}} {
			out, err := e.etcdctl(pod, append([]string{"--endpoints", "https://127.0.0.1:2379"}, args...)...)
			t.Logf("%s etcdctl %v: %s %v", pod, args, out, err)
		}
	}
}

func (e *realEnv) podUID(t *testing.T, pod string) string {
	t.Helper()
	var p integration.Pod
	if err := e.kube.Get(e.ctx, "/api/v1/namespaces/"+e.cfg.Namespace+"/pods/"+pod, &p); err != nil {
		t.Fatal(err)
	}
	return p.Metadata.UID
}

// checkEtcdAfter: three voters, the same cluster, the key still there.
func (e *realEnv) checkEtcdAfter(t *testing.T, pod string, sameID bool) {
	t.Helper()
	var m realproc.MemberList
	err := poll.Until(e.ctx, 2*time.Minute, 250*time.Millisecond, "three voting members", func() error {
		out, err := e.etcdctl(pod, "--endpoints", e.clientURL(), "member", "list", "-w", "json")
		if err != nil {
			return err
		}
		if m, err = realproc.ParseMemberList(out); err != nil {
			return err
		}
		voters := 0
		for _, mem := range m.Members {
			if !mem.IsLearner && mem.Name != "" {
				voters++
			}
		}
		if voters != e.cfg.EtcdReplicas || len(m.Members) != e.cfg.EtcdReplicas {
			return fmt.Errorf("%+v", m.Members)
		}
		return nil
	})
	if err != nil {
		e.logEtcdState(t)
		t.Fatal(err)
	}
	if m.Header.ClusterID != e.clusterID {
		t.Errorf("cluster ID %x after the fault, %x before", m.Header.ClusterID, e.clusterID)
	}
	for _, mem := range m.Members {
		if mem.Name == pod && sameID && mem.ID != e.memberIDs[pod] {
			t.Errorf("%s came back as member %x, was %x", pod, mem.ID, e.memberIDs[pod])
		}
		if mem.Name == pod && !sameID && mem.ID == e.memberIDs[pod] {
			t.Errorf("%s on an empty volume kept member ID %x: it should have rejoined as a new member", pod, mem.ID)
		}
	}
	self := fmt.Sprintf("https://%s.etcd-headless.%s.svc.cluster.local:2379", pod, e.cfg.Namespace)
	got, err := e.etcdctl(pod, "--endpoints", self, "get", etcdKey, "--print-value-only")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(got) != "written-through-the-client-service" {
		t.Errorf("%s reads %q for %s after the fault", pod, got, etcdKey)
	}
}

// etcdPodDeleted: a deleted member pod comes back on its volume, with its
// data and its member ID.
func (e *realEnv) etcdPodDeleted(t *testing.T) {
	e.needMemberIDs(t)
	const pod = "etcd-1"
	uid := e.podUID(t, pod)
	if _, err := e.kube.Do(e.ctx, "DELETE", "/api/v1/namespaces/"+e.cfg.Namespace+"/pods/"+pod, "", nil); err != nil {
		t.Fatal(err)
	}
	e.waitEtcdPod(t, pod, uid)
	e.checkEtcdAfter(t, pod, true)
}

// etcdClaimDeleted: a member that loses its volume (claim deleted with the
// pod) starts on an empty one and rejoins the same cluster through
// member.sh (removed and added again), with every key.
func (e *realEnv) etcdClaimDeleted(t *testing.T) {
	e.needMemberIDs(t)
	const pod = "etcd-2"
	uid := e.podUID(t, pod)
	ns := e.cfg.Namespace
	// the claim first (held by its protection finalizer until the pod is
	// gone), then the pod: the StatefulSet makes both anew
	if _, err := e.kube.Do(e.ctx, "DELETE", "/api/v1/namespaces/"+ns+"/persistentvolumeclaims/data-"+pod, "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.kube.Do(e.ctx, "DELETE", "/api/v1/namespaces/"+ns+"/pods/"+pod, "", nil); err != nil {
		t.Fatal(err)
	}
	e.waitEtcdPod(t, pod, uid)
	e.checkEtcdAfter(t, pod, false)
}

// destroyThenUp: `pulumi destroy` keeps the namespace and the members'
// claims and volumes (Retain), and the next `up` brings the same cluster
// back on them: the same cluster ID, every member with its member ID, the
// key still there, every pod Ready.
func (e *realEnv) destroyThenUp(t *testing.T, st *integration.Stack) {
	e.need(t)
	before := e.members(t, "etcd-0")
	ids := map[string]uint64{}
	for _, m := range before.Members {
		ids[m.Name] = m.ID
	}
	d, err := st.Destroy(e.ctx)
	if err != nil {
		t.Fatalf("destroy: %v", err)
	}
	t.Log(d)
	ns := e.cfg.Namespace
	if ok, _ := e.kube.Exists(e.ctx, "/apis/apps/v1/namespaces/"+ns+"/statefulsets/etcd"); ok {
		t.Fatal("the etcd StatefulSet still exists after destroy")
	}
	for i := range e.cfg.EtcdReplicas {
		claim := fmt.Sprintf("data-etcd-%d", i)
		if ok, err := e.kube.Exists(e.ctx, "/api/v1/namespaces/"+ns+"/persistentvolumeclaims/"+claim); err != nil || !ok {
			t.Fatalf("claim %s after destroy: exists=%v err=%v (the members' data must outlive destroy)", claim, ok, err)
		}
	}
	up, err := st.Up(e.ctx)
	if err != nil {
		t.Fatalf("up after destroy: %v", err)
	}
	t.Log(up)
	e.everyPodReady(t)
	after := e.members(t, "etcd-0")
	if after.Header.ClusterID != before.Header.ClusterID {
		t.Errorf("cluster ID %x after destroy and up, %x before", after.Header.ClusterID, before.Header.ClusterID)
	}
	if len(after.Members) != len(before.Members) {
		t.Errorf("%d members after destroy and up, %d before: %+v", len(after.Members), len(before.Members), after.Members)
	}
	for _, m := range after.Members {
		if ids[m.Name] != m.ID {
			t.Errorf("%s is member %x after destroy and up, was %x: it did not come back on its volume", m.Name, m.ID, ids[m.Name])
		}
	}
	got, err := e.etcdctl("etcd-0", "--endpoints", e.clientURL(), "get", etcdKey, "--print-value-only")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(got) != "written-through-the-client-service" {
		t.Errorf("%s reads %q after destroy and up", etcdKey, got)
	}
}

// pdbRefusesSecondEviction: with etcd-0 evicted and held down (its zone's
// only node cordoned, its volume zonal), the PodDisruptionBudget refuses to
// evict etcd-1 (HTTP 429), so a drain never takes a second member; once the
// node is back, etcd-0 returns with its member ID and data.
func (e *realEnv) pdbRefusesSecondEviction(t *testing.T) {
	e.need(t)
	ns := e.cfg.Namespace
	var down integration.Pod
	if err := e.kube.Get(e.ctx, "/api/v1/namespaces/"+ns+"/pods/etcd-0", &down); err != nil {
		t.Fatal(err)
	}
	node := down.Spec.NodeName
	ids := map[string]uint64{}
	for _, m := range e.members(t, "etcd-1").Members {
		ids[m.Name] = m.ID
	}
	// The previous scenario has just replaced a member: the drill waits for
	// a whole budget before the first eviction.
	held, uncordon, err := e.kube.DrainRefusesSecond(e.ctx, ns, "etcd", e.cfg.EtcdReplicas, down, "etcd-1")
	defer func() {
		if err := uncordon(); err != nil {
			t.Errorf("uncordon %s: %v", node, err)
		}
	}()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("etcd-0 evicted from cordoned %s, its replacement held (%s); evicting etcd-1 then: refused", node, held)
	if err := uncordon(); err != nil {
		t.Fatal(err)
	}
	e.waitEtcdPod(t, "etcd-0", down.Metadata.UID)
	for _, m := range e.members(t, "etcd-1").Members {
		if ids[m.Name] != m.ID {
			t.Errorf("%s is member %x after the eviction, was %x", m.Name, m.ID, ids[m.Name])
		}
	}
}
