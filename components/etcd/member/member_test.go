package member

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/realproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// names returns the members' names.
func names(ms []Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

func endpoints(ms ...Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ClientURL)
	}
	return out
}

// startCluster starts every member of s through member.sh, as a StatefulSet with Parallel pod
// management does, and waits until all are healthy voters.
func (e *testEnv) startCluster(t *testing.T, s Settings) []*proc {
	t.Helper()
	ms := s.MemberList()
	ps := make([]*proc, len(ms))
	for i, m := range ms {
		ps[i] = e.startPod(s, m.Name, "", ModeStart)
	}
	e.waitHealthy(t, ms...)
	e.waitVoters(t, ms[0].ClientURL, names(ms)...)
	return ps
}

// TestMemberRejoinsAfterVolumeLoss: a member whose volume is lost comes back through
// remove + add --learner + promote, in the same cluster, with all the data, while writes go on.
func TestMemberRejoinsAfterVolumeLoss(t *testing.T) {
	e := newTestEnv(t)
	ms := e.loopbackMembers(3)
	s := e.settings(ms, nil)
	require.NoError(t, s.Validate())
	ps := e.startCluster(t, s)
	for _, p := range ps {
		p.waitLog(t, `decision=(bootstrap-new|bootstrap-join-initial) member=etcd-\d`, time.Second)
	}
	before, err := e.memberList(ms[0].ClientURL)
	require.NoError(t, err)
	e.kv.putMany(t, ms[0].ClientURL, "key/", 1000)

	w := e.kv.startWriter(endpoints(ms[0], ms[1]))
	began := time.Now()
	code := ps[2].stop(t)
	t.Logf("etcd-2 stopped with status %d (etcd's own status on SIGTERM, forwarded by member.sh)", code)
	ps[2].waitLog(t, `signal=TERM member=etcd-2 forwarding-to=etcd`, time.Second)
	require.NoError(t, os.RemoveAll(filepath.Dir(e.dataDir("etcd-2"))))

	ps[2] = e.startPod(s, "etcd-2", "", ModeStart)
	ps[2].waitLog(t, `decision=removed-stale member=etcd-2 id=\w+ name=etcd-2`, 60*time.Second)
	ps[2].waitLog(t, `decision=added-learner member=etcd-2 id=\w+ reason=lost-data`, 60*time.Second)
	ps[2].waitLog(t, `initial_cluster_state=existing`, 10*time.Second)
	ps[2].waitLog(t, `decision=promoted member=etcd-2`, 60*time.Second)
	after := e.waitVoters(t, ms[0].ClientURL, "etcd-0", "etcd-1", "etcd-2")
	rejoin := time.Since(began)
	w.stop()

	assert.Equal(t, before.clusterID(), after.clusterID(), "cluster ID must not change")
	e.waitKeys(t, ms[2].ClientURL, "key/", "1000") // all keys readable from etcd-2 alone (serializable)
	assert.Less(t, w.maxOutage, 3*time.Second, "writes must keep succeeding (last error: %v)", w.lastErr)
	assert.Greater(t, w.ok.Load(), int64(50))
	t.Logf("rejoin after volume loss: cluster %s kept, 3 started voters, 1000/1000 keys on etcd-2, writer %d ok / %d failed (longest outage %s), rejoined in %s",
		after.clusterID(), w.ok.Load(), w.failed.Load(), w.maxOutage.Round(time.Millisecond), rejoin.Round(time.Millisecond))
}

// TestMemberRestartKeepsData: stopping and starting every member again never re-bootstraps.
func TestMemberRestartKeepsData(t *testing.T) {
	e := newTestEnv(t)
	ms := e.loopbackMembers(3)
	s := e.settings(ms, nil)
	ps := e.startCluster(t, s)
	before, err := e.memberList(ms[0].ClientURL)
	require.NoError(t, err)
	e.kv.putMany(t, ms[0].ClientURL, "key/", 1000)

	began := time.Now()
	for _, p := range ps {
		p.stop(t)
	}
	for i, m := range ms {
		ps[i] = e.startPod(s, m.Name, "", ModeStart)
	}
	for i, p := range ps {
		p.waitLog(t, fmt.Sprintf(`decision=start-existing-data member=etcd-%d id=\w+ cluster_id=%s`, i, before.clusterID()), 30*time.Second)
	}
	e.waitHealthy(t, ms...)
	after := e.waitVoters(t, ms[0].ClientURL, names(ms)...)
	for _, p := range ps {
		assert.NotContains(t, grepLines(p.out.String(), "anka-etcd:"), "bootstrap", "%s must not bootstrap again", p.name)
	}
	assert.Equal(t, before.clusterID(), after.clusterID())
	for _, m := range ms {
		e.waitKeys(t, m.ClientURL, "key/", "1000")
	}
	t.Logf("full restart: every member logged decision=start-existing-data, cluster %s kept, 1000/1000 keys on each member, back in %s",
		after.clusterID(), time.Since(began).Round(time.Millisecond))
}

// dirSum hashes every file name, mode and content under dir.
func dirSum(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	var paths []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	}))
	sort.Strings(paths)
	for _, p := range paths {
		st, err := os.Lstat(p)
		require.NoError(t, err)
		fmt.Fprintf(h, "%s %v %d\n", strings.TrimPrefix(p, dir), st.Mode(), st.Size())
		if st.Mode().IsRegular() {
			f, err := os.Open(p)
			require.NoError(t, err)
			_, err = io.Copy(h, f)
			f.Close()
			require.NoError(t, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestMemberRefusesForeignData: a member whose volume holds another cluster's data refuses to start,
// says what it found and how to recover, and leaves the data untouched.
func TestMemberRefusesForeignData(t *testing.T) {
	e := newTestEnv(t)
	// Another cluster: a single plain etcd named etcd-2, stopped after a few writes.
	foreignDir := filepath.Join(e.root, "foreign", "data")
	fp := realproc.Ports(t, 2)
	fc, fpeer := fmt.Sprintf("http://127.0.0.1:%d", fp[0]), fmt.Sprintf("http://127.0.0.1:%d", fp[1])
	foreign := e.run("foreign-etcd", []string{filepath.Join(e.bin, "etcd"), "--name=etcd-2", "--data-dir=" + foreignDir,
		"--listen-client-urls=" + fc, "--advertise-client-urls=" + fc, "--listen-peer-urls=" + fpeer,
		"--initial-advertise-peer-urls=" + fpeer, "--initial-cluster=etcd-2=" + fpeer, "--initial-cluster-token=other"}, nil)
	var fml memberList
	eventually(t, 20*time.Second, "foreign etcd up", func() (err error) { fml, err = e.memberList(fc); return err })
	require.NoError(t, e.kv.Put(fc, "foreign", []byte("yes")))
	foreign.stop(t)

	ms := e.loopbackMembers(3)
	s := e.settings(ms, nil)
	ps := e.startCluster(t, s)
	ml, err := e.memberList(ms[0].ClientURL)
	require.NoError(t, err)
	ps[2].stop(t)
	target := e.dataDir("etcd-2")
	require.NoError(t, os.RemoveAll(target))
	require.NoError(t, os.Rename(foreignDir, target))
	sum := dirSum(t, target)

	began := time.Now()
	p := e.startPod(s, "etcd-2", "", ModeStart)
	code := p.wait(t, 30*time.Second)
	assert.Equal(t, 2, code, "refusal exits non-zero")
	line := p.waitLog(t, `decision=refuse-foreign-data member=etcd-2 [^\n]*`, time.Second)
	assert.Contains(t, line, "data_cluster_id="+fml.clusterID()+" ", "cluster ID read from the WAL")
	assert.Contains(t, line, "live_cluster_id="+ml.clusterID()+" ")
	p.waitLog(t, `recovery member=etcd-2: [^\n]*mv `+regexp.QuoteMeta(target)+` `+regexp.QuoteMeta(target)+`\.foreign-`, time.Second)
	assert.NotContains(t, p.out.String(), "exec=etcd", "etcd must not run on foreign data")
	assert.Equal(t, sum, dirSum(t, target), "foreign data dir must be unchanged")

	require.NoError(t, e.kv.Put(ms[0].ClientURL, "still", []byte("serving")))
	e.waitHealthy(t, ms[0], ms[1])
	t.Logf("foreign data: etcd-2 refused in %s with status %d (%s), data dir checksum unchanged, etcd-0/etcd-1 kept serving",
		time.Since(began).Round(time.Millisecond), code, line)
}

// TestMemberScaleUpAndDown: 3 -> 5 through the start logic, then 5 -> 3 through the prune Job,
// keeping a quorum throughout.
func TestMemberScaleUpAndDown(t *testing.T) {
	e := newTestEnv(t)
	ms5 := e.loopbackMembers(5)
	s3 := e.settings(ms5[:3], nil)
	s5 := e.settings(ms5, nil)
	require.NoError(t, s5.Validate())
	e.startCluster(t, s3)
	w := e.kv.startWriter(endpoints(ms5[:3]...))

	began := time.Now()
	p3 := e.startPod(s5, "etcd-3", "uid-etcd-3", ModeStart)
	p4 := e.startPod(s5, "etcd-4", "uid-etcd-4", ModeStart)
	for _, p := range []*proc{p3, p4} {
		p.waitLog(t, `decision=added-learner member=etcd-\d id=\w+ reason=scale-up`, 90*time.Second)
		p.waitLog(t, `decision=promoted member=etcd-\d`, 90*time.Second)
	}
	e.waitVoters(t, ms5[0].ClientURL, names(ms5)...)
	e.waitHealthy(t, ms5...)
	up := time.Since(began)
	waited := strings.Contains(p3.out.String()+p4.out.String(), "too many learner members")

	// The leader is among the members to remove: prune hands leadership over first.
	ml, err := e.memberList(ms5[0].ClientURL)
	require.NoError(t, err)
	for _, m := range ml.Members {
		if m.Name == "etcd-4" {
			out, err := e.ctl("--endpoints="+ms5[0].ClientURL+","+ms5[1].ClientURL+","+ms5[2].ClientURL+","+ms5[3].ClientURL+","+ms5[4].ClientURL,
				"move-leader", strconv.FormatUint(m.ID, 16))
			require.NoError(t, err, out)
		}
	}

	began = time.Now()
	prune := e.startPod(s3, "etcd-prune", "", ModePrune)
	require.Equal(t, 0, prune.wait(t, 90*time.Second), "prune job status")
	log := prune.out.String()
	i4, i3 := strings.Index(log, "decision=pruned member=etcd-4"), strings.Index(log, "decision=pruned member=etcd-3")
	require.True(t, i4 >= 0 && i3 > i4, "prune removes etcd-4, then etcd-3:\n%s", log)
	prune.waitLog(t, `prune=moved-leader from=etcd-4`, time.Second)
	prune.waitLog(t, `decision=prune-done desired_members=3`, time.Second)
	after := e.waitVoters(t, ms5[0].ClientURL, names(ms5[:3])...)
	e.waitHealthy(t, ms5[:3]...)
	down := time.Since(began)

	// A removed member whose container restarts in the same pod (before the StatefulSet shrinks,
	// still with the 5-member environment) must not add itself back.
	for _, p := range []*proc{p3, p4} {
		p.wait(t, 30*time.Second)
	}
	again := e.startPod(s5, "etcd-4", "uid-etcd-4", ModeStart)
	again.waitLog(t, `decision=removed-while-running member=etcd-4`, 30*time.Second)
	assert.Equal(t, 0, again.stop(t))
	// A pod whose ordinal is beyond the desired count idles without touching the cluster.
	extra := e.startPod(s3, "etcd-3", "", ModeStart)
	extra.waitLog(t, `decision=not-desired member=etcd-3 ordinal=3 desired_members=3`, 10*time.Second)
	extra.stop(t)
	e.waitVoters(t, ms5[0].ClientURL, names(ms5[:3])...)

	// Scaling up again later: a new etcd-3 pod finds its old volume, from this cluster but removed;
	// it moves the data aside (kept) and rejoins.
	began = time.Now()
	back := e.startPod(s5, "etcd-3", "", ModeStart)
	back.waitLog(t, `decision=data-aside member=etcd-3 reason=member-removed-from-cluster id=\w+ cluster_id=`+after.clusterID()+` moved_to=\S+`, 30*time.Second)
	back.waitLog(t, `decision=promoted member=etcd-3`, 60*time.Second)
	e.waitVoters(t, ms5[0].ClientURL, "etcd-0", "etcd-1", "etcd-2", "etcd-3")
	aside, _ := filepath.Glob(e.dataDir("etcd-3") + ".removed-*")
	assert.Len(t, aside, 1, "the old data dir is kept")
	rejoin := time.Since(began)
	prune = e.startPod(s3, "etcd-prune", "", ModePrune)
	require.Equal(t, 0, prune.wait(t, 60*time.Second))
	back.wait(t, 30*time.Second)
	e.waitVoters(t, ms5[0].ClientURL, names(ms5[:3])...)
	w.stop()

	assert.Less(t, w.maxOutage, 3*time.Second, "quorum kept: writes never stopped for long (last error: %v)", w.lastErr)
	t.Logf("scale 3->5 in %s (second learner waited for the first: %v), 5->3 by prune in %s (leader etcd-4 handed over first), cluster %s, writer %d ok / %d failed (longest outage %s); a removed member restarted in its pod idles; ordinal 3 with 3 desired idles; a new etcd-3 pod on its old volume moved the data aside and rejoined in %s",
		up.Round(time.Millisecond), waited, down.Round(time.Millisecond), after.clusterID(),
		w.ok.Load(), w.failed.Load(), w.maxOutage.Round(time.Millisecond), rejoin.Round(time.Millisecond))
}

// TestMemberQuotaAlarmAndReclaim: past the backend quota, etcd raises NOSPACE; the health mode
// reports it; reclaim (compact, defragment, disarm) in a maintenance window makes it writable again.
func TestMemberQuotaAlarmAndReclaim(t *testing.T) {
	e := newTestEnv(t)
	ms := e.loopbackMembers(3)
	const quota = 2 << 20 // below MinQuotaBackendBytes on purpose: a test-only quota
	s := e.settings(ms, func(s *Settings) { s.QuotaBackendBytes = quota })
	e.startCluster(t, s)

	began := time.Now()
	value := strings.Repeat("v", 16<<10)
	var err error
	writes := 0
	for ; writes < 2000; writes++ {
		if err = e.kv.Put(ms[0].ClientURL, fmt.Sprintf("quota/%02d", writes%20), []byte(value)); err != nil {
			break
		}
	}
	require.Error(t, err, "writes must hit the quota")
	require.Contains(t, err.Error(), "database space exceeded")
	alarms, _ := e.ctl("--endpoints="+ms[0].ClientURL, "alarm", "list")
	require.Contains(t, alarms, "alarm:NOSPACE")

	h := e.startPod(s, "etcd-0", "", ModeHealth)
	assert.Equal(t, 1, h.wait(t, 30*time.Second), "health exits 1 under an alarm")
	hline := h.waitLog(t, `health=alarm alarms=NOSPACE member=etcd-0 [^\n]*`, time.Second)

	r := e.startPod(s, "operator", "", ModeReclaim)
	require.Equal(t, 0, r.wait(t, 60*time.Second), "reclaim status")
	r.waitLog(t, `reclaim=compacted revision=\d+`, time.Second)
	for _, m := range ms {
		r.waitLog(t, `reclaim=defragmented member=`+m.Name, time.Second)
		r.waitLog(t, `health=ok member=`+m.Name, time.Second)
	}
	require.NoError(t, e.kv.Put(ms[0].ClientURL, "after-reclaim", []byte("ok")), "writes work again")
	alarms, _ = e.ctl("--endpoints="+ms[0].ClientURL, "alarm", "list")
	assert.NotContains(t, alarms, "NOSPACE")
	t.Logf("quota %d bytes: NOSPACE after %d writes of 16 KiB; health reported %q; reclaim compacted, defragmented 3 members, disarmed; writes accepted again; %s",
		quota, writes, hline, time.Since(began).Round(time.Millisecond))
}

// TestMemberNaiveStartFailsAfterVolumeLoss is the negative control: starting every member with
// --initial-cluster-state new and the static list, as Bitnami-style charts do, crash-loops the
// member that lost its volume, as the vendor describes.
func TestMemberNaiveStartFailsAfterVolumeLoss(t *testing.T) {
	e := newTestEnv(t)
	ms := e.loopbackMembers(3)
	s := e.settings(ms, nil)
	var ic []string
	for _, m := range ms {
		ic = append(ic, m.Name+"="+m.PeerURL)
	}
	naive := func(m Member) *proc {
		return e.run(m.Name+"-naive", []string{filepath.Join(e.bin, "etcd"), "--name=" + m.Name,
			"--data-dir=" + e.dataDir(m.Name), "--listen-client-urls=" + m.ClientURL, "--advertise-client-urls=" + m.ClientURL,
			"--listen-peer-urls=" + m.PeerURL, "--initial-advertise-peer-urls=" + m.PeerURL,
			"--initial-cluster=" + strings.Join(ic, ","), "--initial-cluster-state=new",
			"--initial-cluster-token=" + s.ClusterToken, "--heartbeat-interval=100", "--election-timeout=1000"}, nil)
	}
	var ps []*proc
	for _, m := range ms {
		ps = append(ps, naive(m))
	}
	e.waitHealthy(t, ms...)
	e.kv.putMany(t, ms[0].ClientURL, "key/", 100)
	ps[2].stop(t)
	require.NoError(t, os.RemoveAll(e.dataDir("etcd-2")))

	began := time.Now()
	p := naive(ms[2])
	code := p.wait(t, 30*time.Second)
	assert.NotEqual(t, 0, code, "the naive member must fail")
	reason := p.waitLog(t, `has already been bootstrapped|cluster ID mismatch`, time.Second)
	t.Logf("negative control: naive restart of etcd-2 exited with status %d after %s: %q (the script's path rejoins instead)",
		code, time.Since(began).Round(time.Millisecond), reason)
}

// TestMemberBackupAndRestore runs backup.sh as the CronJob would (tools dir with busybox, etcdctl
// and etcdutl; a fake aws CLI that stores the upload locally), then restores the snapshot into a new
// three-member cluster with the documented commands and reads the keys back.
func TestMemberBackupAndRestore(t *testing.T) {
	e := newTestEnv(t)
	ms := e.loopbackMembers(3)
	s := e.settings(ms, nil)
	e.startCluster(t, s)

	// The backup pod: init containers put busybox, then etcdctl/etcdutl into its tools dir.
	bs := s
	bs.ToolsDir = e.makeTools(e.busybox, "backup-tools")
	cp := bs.EtcdToolsCopyCommand()
	out, err := exec.Command(cp[0], cp[1:]...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	fakeBin, s3dir := filepath.Join(e.root, "fake-aws"), filepath.Join(e.root, "fake-s3")
	require.NoError(t, os.MkdirAll(fakeBin, 0o755))
	argsLog := filepath.Join(e.root, "aws-args.log")
	fake := fmt.Sprintf(`#!%s sh
# fake aws CLI: "aws s3 cp SRC s3://BUCKET/KEY ..." copies SRC to %s/BUCKET/KEY and records its args
echo "$*" >> %s
[ "$1 $2" = "s3 cp" ] || exit 64
dest=%s/${4#s3://}
mkdir -p "$(dirname "$dest")" && cp "$3" "$dest"
`, filepath.Join(bs.ToolsDir, "busybox"), s3dir, argsLog, s3dir)
	require.NoError(t, os.WriteFile(filepath.Join(fakeBin, "aws"), []byte(fake), 0o755))
	b := Backup{Bucket: "anka-backups", Prefix: "etcd", KMSKeyID: "alias/anka-etcd",
		WorkDir: filepath.Join(e.root, "backup-work"), AWSBinDir: fakeBin}.WithDefaults()
	require.NoError(t, b.Validate())

	// A new cluster nobody has written to yet snapshots at revision 0: a
	// valid backup, not a failure every hour until the first write (found
	// by the real pods, tests/realpods).
	empty := e.run("backup-empty", b.Command(bs), podEnv(b.Env(bs), "etcd-backup-empty", "uid-backup-empty"))
	require.Equal(t, 0, empty.wait(t, 60*time.Second), "backup of a cluster with no writes")
	empty.waitLog(t, `result=ok dest=s3://anka-backups/etcd/\d{8}T\d{6}Z\.db [^\n]*revision=0 keys=0`, time.Second)
	require.NoError(t, os.RemoveAll(s3dir))
	require.NoError(t, os.Remove(argsLog))

	e.kv.putMany(t, ms[0].ClientURL, "key/", 1000)
	began := time.Now()
	bp := e.run("backup", b.Command(bs), podEnv(b.Env(bs), "etcd-backup", "uid-backup"))
	require.Equal(t, 0, bp.wait(t, 60*time.Second), "backup status")
	res := bp.waitLog(t, `result=ok dest=s3://anka-backups/etcd/\d{8}T\d{6}Z\.db [^\n]*`, time.Second)
	args, err := os.ReadFile(argsLog)
	require.NoError(t, err)
	assert.Regexp(t, `^s3 cp \S+/etcd-\d{8}T\d{6}Z\.db s3://anka-backups/etcd/\d{8}T\d{6}Z\.db --sse aws:kms --only-show-errors --metadata etcd-revision=\d+,etcd-keys=\d+,etcd-hash=\d+,etcd-endpoint=\S+ --sse-kms-key-id alias/anka-etcd\n$`, string(args))
	snaps, _ := filepath.Glob(filepath.Join(s3dir, "anka-backups", "etcd", "*.db"))
	require.Len(t, snaps, 1)
	leftovers, _ := filepath.Glob(filepath.Join(b.WorkDir, "*"))
	assert.Empty(t, leftovers, "the work dir is cleaned")
	backupTook := time.Since(began)

	// Restore into a new cluster (new ports stand for the same pods after the volumes were reset).
	began = time.Now()
	rms := e.loopbackMembers(3)
	rs := e.settings(rms, func(s *Settings) { s.DataDir = filepath.Join(e.root, "restored", "$(POD_NAME)", "data") })
	var ic []string
	for _, m := range rms {
		ic = append(ic, m.Name+"="+m.PeerURL)
	}
	for _, m := range rms {
		script := restoreScript(snaps[0], filepath.Join(e.root, "restored", m.Name, "data"), m.Name, strings.Join(ic, ","), "anka-etcd-restore-1", m.PeerURL)
		cmd := exec.Command(filepath.Join(e.tools, "busybox"), "sh", "-ec", script)
		cmd.Env = []string{"PATH=" + e.tools + ":" + e.bin}
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "restore %s:\n%s", m.Name, out)
	}
	var rps []*proc
	for _, m := range rms {
		rps = append(rps, e.startPod(rs, m.Name, "", ModeStart))
	}
	for _, p := range rps {
		p.waitLog(t, `decision=start-existing-data`, 30*time.Second)
	}
	e.waitHealthy(t, rms...)
	e.waitVoters(t, rms[0].ClientURL, names(rms)...)
	for _, m := range rms {
		e.waitKeys(t, m.ClientURL, "key/", "1000") // restored keys
	}
	n, err := e.countKeys(rms[1].ClientURL, "key/", false)
	require.NoError(t, err)
	assert.Equal(t, "1000", n)
	t.Logf("backup: %s in %s; restore into 3 fresh members + start through member.sh: 1000/1000 keys on each, in %s",
		res, backupTook.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}

// restoreScript is the per-member restore procedure, as the README quotes it (run with etcdutl
// on PATH, e.g. in the backup image, with the member's volume mounted and its pod stopped).
func restoreScript(snapshot, dataDir, name, initialCluster, token, peerURL string) string {
	return fmt.Sprintf(`SNAPSHOT=%q DATA_DIR=%q NAME=%q INITIAL_CLUSTER=%q TOKEN=%q PEER_URL=%q
etcdutl snapshot status "$SNAPSHOT" -w table
if [ -e "$DATA_DIR" ]; then mv "$DATA_DIR" "$DATA_DIR.before-restore-$(date -u +%%Y%%m%%dT%%H%%M%%SZ)"; fi
rm -f "$DATA_DIR.pod-uid"
etcdutl snapshot restore "$SNAPSHOT" --name "$NAME" --data-dir "$DATA_DIR" --initial-cluster "$INITIAL_CLUSTER" --initial-cluster-token "$TOKEN" --initial-advertise-peer-urls "$PEER_URL"
`, snapshot, dataDir, name, initialCluster, token, peerURL)
}

// TestMemberLateInitialMemberBootstrapsWithItsPeers: at the first deployment a member that starts
// late, when its peers already run (with or without a quorum), bootstraps with the static list as
// they did instead of adding itself as a new member.
func TestMemberLateInitialMemberBootstrapsWithItsPeers(t *testing.T) {
	e := newTestEnv(t)
	ms := e.loopbackMembers(3)
	s := e.settings(ms, nil)
	began := time.Now()
	p0 := e.startPod(s, "etcd-0", "", ModeStart)
	p0.waitLog(t, `exec=etcd member=etcd-0 initial_cluster_state=new`, 10*time.Second)
	time.Sleep(1500 * time.Millisecond) // etcd-0 runs alone, without a quorum
	p1 := e.startPod(s, "etcd-1", "", ModeStart)
	d1 := p1.waitLog(t, `decision=(bootstrap-join-initial|bootstrap-new) member=etcd-1`, 10*time.Second)
	e.waitHealthy(t, ms[0], ms[1]) // two of three: a quorum, etcd-2 listed but never started
	p2 := e.startPod(s, "etcd-2", "", ModeStart)
	d2 := p2.waitLog(t, `decision=bootstrap-join-initial member=etcd-2 [^\n]*`, 10*time.Second)
	ml := e.waitVoters(t, ms[0].ClientURL, names(ms)...)
	assert.NotContains(t, grepLines(p2.out.String(), "anka-etcd:"), "added-learner")
	t.Logf("late initial members: etcd-1 (etcd-0 alone, no quorum) logged %q; etcd-2 (etcd-0+1 with quorum) logged %q; one cluster %s of 3 voters in %s",
		d1, d2, ml.clusterID(), time.Since(began).Round(time.Millisecond))
}
