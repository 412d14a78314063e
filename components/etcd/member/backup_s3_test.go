package member

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"

	"github.com/anka-ha/anka-build-cloud-aws/internal/realtool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The S3 upload test runs backup.sh with Debian's AWS CLI v2 (package awscli) inside a bubblewrap
// sandbox (package bubblewrap) whose root is read-only: the pod's readOnlyRootFilesystem. Without
// them it skips, unless ANKA_REQUIRE_ETCD=1.

// awsCLIv2 finds an AWS CLI v2 among realtool.AWSCLI's candidates ($ANKA_AWS_CLI, PATH,
// Debian's /usr/bin/aws): the first whose --version says 2.
func awsCLIv2(t *testing.T) string {
	t.Helper()
	var tried []string
	for _, c := range realtool.AWSCLI.Candidates() {
		out, err := exec.Command(c, "--version").CombinedOutput()
		if err == nil && strings.HasPrefix(string(out), "aws-cli/2.") {
			return c
		}
		tried = append(tried, fmt.Sprintf("%s: %v %s", c, err, strings.TrimSpace(string(out))))
	}
	if len(tried) == 0 {
		_, err := realtool.AWSCLI.Find()
		tried = append(tried, err.Error())
	}
	need(t, "AWS CLI v2 not found (%s): %s", realtool.AWSCLI.Install, strings.Join(tried, "; "))
	return ""
}

// readOnlyRoot returns the argv prefix that runs a command with the whole filesystem read-only
// but for writable (bound read-write at the same paths), like a container with
// readOnlyRootFilesystem and emptyDir volumes: bubblewrap, directly or, where mounting needs it,
// in a user namespace.
func readOnlyRoot(t *testing.T, writable ...string) []string {
	t.Helper()
	bwrap := realtool.Bwrap.Require(t)
	var failures []string
	for _, userns := range [][]string{nil, {"--unshare-user"}} {
		argv := append([]string{bwrap, "--die-with-parent"}, userns...)
		argv = append(argv, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc")
		for _, w := range writable {
			argv = append(argv, "--bind", w, w)
		}
		argv = append(argv, "--")
		out, err := exec.Command(argv[0], append(argv[1:], "/bin/true")...).CombinedOutput()
		if err == nil {
			return argv
		}
		failures = append(failures, fmt.Sprintf("%v: %v %s", userns, err, strings.TrimSpace(string(out))))
	}
	need(t, "bwrap cannot make a read-only root here: %s", strings.Join(failures, "; "))
	return nil
}

// setEnv replaces (or appends) NAME=value in a NAME=value list.
func setEnv(env []string, name, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return append(out, name+"="+value)
}

func hasEnv(env []string, name string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, name+"=") {
			return true
		}
	}
	return false
}

// snapshotStatus is etcdutl snapshot status -w json.
type snapshotStatus struct {
	Hash      uint64 `json:"hash"`
	Revision  int64  `json:"revision"`
	TotalKey  int64  `json:"totalKey"`
	TotalSize int64  `json:"totalSize"`
}

func (e *testEnv) snapshotStatus(t *testing.T, file string) snapshotStatus {
	t.Helper()
	cmd := exec.Command(filepath.Join(e.bin, "etcdutl"), "snapshot", "status", file, "-w", "json")
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	out, err := cmd.Output()
	require.NoError(t, err, "etcdutl snapshot status %s", file)
	var st snapshotStatus
	require.NoError(t, json.Unmarshal(out, &st), "%s", out)
	return st
}

func fileSHA256(t *testing.T, file string) (string, int64) {
	t.Helper()
	f, err := os.Open(file)
	must(t, err)
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	must(t, err)
	return hex.EncodeToString(h.Sum(nil)), n
}

// TestMemberBackupUploadsToS3UnderReadOnlyRoot runs backup.sh as the CronJob's container does:
// busybox sh with the env member.Backup.Env renders, the tools dir filled like the init containers
// do, a real AWS CLI v2, and the pod's filesystem (everything read-only but the emptyDir volumes).
// The CLI gets credentials as under IRSA: AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, exchanged
// with STS by AssumeRoleWithWebIdentity, which the CLI caches under ~/.aws/cli/cache. The upload
// goes to a fake S3 (gofakes3) and must be the snapshot, with its metadata and encryption headers.
//
// A negative control first runs the same pod with HOME on the read-only root (/root, what the
// container runtime sets when the env does not): the CLI fails to cache the credentials and the
// upload fails with "Read-only file system" (aws/aws-cli#7376, #4374).
func TestMemberBackupUploadsToS3UnderReadOnlyRoot(t *testing.T) {
	began := time.Now()
	e := newTestEnv(t)
	aws := awsCLIv2(t)
	const region, bucket, prefix, kmsKey = "eu-west-1", "anka-backups", "etcd", "alias/anka-etcd"
	const roleARN = "arn:aws:iam::123456789012:role/anka-etcd-backup"

	m := e.loopbackMembers(1)[0]
	s := e.settings([]Member{m}, nil)

	// The backup pod's volumes: the tools emptyDir (busybox, then etcdctl/etcdutl, as the init
	// containers put them), the work emptyDir, the scripts (read-only, like the whole root), and
	// IRSA's projected token (read-only).
	bs := s
	bs.ToolsDir = e.makeTools(e.busybox, "backup-tools")
	cp := bs.EtcdToolsCopyCommand()
	out, err := exec.Command(cp[0], cp[1:]...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	b := Backup{Bucket: bucket, Prefix: prefix, KMSKeyID: kmsKey,
		WorkDir: filepath.Join(e.root, "backup-work"), AWSBinDir: filepath.Dir(aws)}.WithDefaults()
	require.NoError(t, b.Validate())
	must(t, os.MkdirAll(b.WorkDir, 0o755))
	token := "eyJhbGciOiJSUzI1NiJ9.anka-test-projected-service-account-token." + rand.Text()
	tokenFile := filepath.Join(e.root, "irsa", "token")
	must(t, os.MkdirAll(filepath.Dir(tokenFile), 0o755))
	must(t, os.WriteFile(tokenFile, []byte(token), 0o644))
	sandbox := readOnlyRoot(t, bs.ToolsDir, b.WorkDir)
	cloud := newFakeAWS(t, e.root, region, bucket, roleARN, token)

	// The sandbox is what it stands for: the emptyDirs are writable, the rest is not, for root too.
	probe := exec.Command(sandbox[0], append(sandbox[1:], filepath.Join(bs.ToolsDir, "busybox"), "sh", "-c",
		`for d in "$@"; do if touch "$d/.anka-probe" 2>/dev/null; then rm "$d/.anka-probe"; echo "$d=rw"; else echo "$d=ro"; fi; done`,
		"probe", bs.ToolsDir, b.WorkDir, "/root", os.TempDir(), e.root, bs.ScriptsDir)...)
	out, err = probe.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, fmt.Sprintf("%s=rw\n%s=rw\n/root=ro\n%s=ro\n%s=ro\n%s=ro\n", bs.ToolsDir, b.WorkDir, os.TempDir(), e.root, bs.ScriptsDir),
		string(out), "read-only root with writable emptyDirs")

	// One real etcd member (its client URL is in the rendered env) with some keys.
	e.run(m.Name, []string{filepath.Join(e.bin, "etcd"), "--name", m.Name, "--data-dir", e.dataDir(m.Name),
		"--listen-client-urls", m.ClientURL, "--advertise-client-urls", m.ClientURL,
		"--listen-peer-urls", m.PeerURL, "--initial-advertise-peer-urls", m.PeerURL,
		"--initial-cluster", m.Name + "=" + m.PeerURL, "--initial-cluster-token", "backup-test-cluster"},
		[]string{"PATH=/usr/bin:/bin"})
	e.waitHealthy(t, m)
	e.kv.putMany(t, m.ClientURL, "key/", 300)

	// The container's env: what Backup.Env renders; HOME=/root from the container runtime unless
	// the env sets it (the image sets none and runs as root); what EKS's pod identity webhook adds
	// for IRSA; and the fake AWS's proxy and CA bundle.
	env := podEnv(b.Env(bs), "etcd-backup", "uid-backup")
	if !hasEnv(env, "HOME") {
		env = append(env, "HOME=/root")
	}
	env = append(env, "AWS_ROLE_ARN="+roleARN, "AWS_WEB_IDENTITY_TOKEN_FILE="+tokenFile,
		"AWS_REGION="+region, "AWS_DEFAULT_REGION="+region, "AWS_STS_REGIONAL_ENDPOINTS=regional")
	env = append(env, cloud.ClientEnv()...)
	argv := append(append([]string{}, sandbox...), b.Command(bs)...)
	result := regexp.MustCompile(`result=ok dest=s3://` + bucket + `/` + prefix + `/(\d{8}T\d{6}Z\.db) endpoint=(\S+) revision=(\d+) keys=(\d+) size=(\d+) hash=(\d+) sse=aws:kms`)

	// Negative control: HOME on the read-only root.
	nc := e.run("backup-home-on-root", argv, setEnv(env, "HOME", "/root"))
	code := nc.wait(t, 90*time.Second)
	assert.NotEqual(t, 0, code, "with HOME=/root on a read-only root the upload must fail:\n%s", nc.out.String())
	assert.Regexp(t, `result=failed step=upload dest=s3://`+bucket+`/`+prefix+`/\S+ error=.*Read-only file system`, nc.out.String())
	assert.Len(t, cloud.STSCalls(), 1, "the CLI got the credentials, then failed to cache them")
	ncObjects, err := cloud.Backend.ListBucket(bucket, &gofakes3.Prefix{HasPrefix: true, Prefix: prefix + "/"}, gofakes3.ListBucketPage{})
	require.NoError(t, err)
	assert.Empty(t, ncObjects.Contents, "nothing was uploaded")
	t.Logf("negative control: HOME=/root: status %d: %s", code, grepLines(nc.out.String(), "result="))

	// The pod as rendered.
	bp := e.run("backup", argv, env)
	code = bp.wait(t, 90*time.Second)
	require.Equal(t, 0, code, "backup status:\n%s", bp.out.String())
	match := result.FindStringSubmatch(bp.out.String())
	require.NotNil(t, match, "no result=ok line:\n%s", bp.out.String())
	key, endpoint, revision, keys, hash := prefix+"/"+match[1], match[2], match[3], match[4], match[6]
	assert.Equal(t, m.ClientURL, endpoint)

	// IRSA: one more AssumeRoleWithWebIdentity with the pod's role and token, on the regional STS
	// endpoint, and the upload signed with the credentials it returned.
	calls := cloud.STSCalls()
	require.Len(t, calls, 2)
	assert.Equal(t, roleARN, calls[1].Get("RoleArn"))
	assert.Equal(t, token, calls[1].Get("WebIdentityToken"))
	assert.NotEmpty(t, calls[1].Get("RoleSessionName"))
	reqs := cloud.S3Requests()
	require.NotEmpty(t, reqs)
	for _, r := range reqs {
		assert.Contains(t, r.Authorization, "Credential="+cloud.AccessKeyID+"/", "%s %s is signed with the assumed role's key", r.Method, r.Path)
		assert.Contains(t, r.Authorization, "/"+region+"/s3/aws4_request")
		assert.Equal(t, cloud.SessionToken, r.SecurityToken)
	}
	assert.Contains(t, cloud.Connects(), "sts."+region+".amazonaws.com:443")
	for _, c := range cloud.Connects() {
		assert.Contains(t, []string{"sts." + region + ".amazonaws.com:443", bucket + ".s3." + region + ".amazonaws.com:443", "s3." + region + ".amazonaws.com:443"}, c)
	}
	assert.Empty(t, cloud.Unexpected(), "requests the fake AWS does not serve")

	// The bucket holds exactly the snapshot, under the prefix, with the script's metadata and SSE.
	objects, err := cloud.Backend.ListBucket(bucket, &gofakes3.Prefix{HasPrefix: true, Prefix: prefix + "/"}, gofakes3.ListBucketPage{})
	require.NoError(t, err)
	require.Len(t, objects.Contents, 1)
	assert.Equal(t, key, objects.Contents[0].Key)
	obj, err := cloud.Backend.GetObject(bucket, key, nil)
	require.NoError(t, err)
	uploaded := filepath.Join(e.root, "uploaded.db")
	f, err := os.Create(uploaded)
	must(t, err)
	_, err = io.Copy(f, obj.Contents)
	must(t, err)
	must(t, f.Close())
	obj.Contents.Close()
	for name, want := range map[string]string{
		"X-Amz-Meta-Etcd-Revision": revision, "X-Amz-Meta-Etcd-Keys": keys, "X-Amz-Meta-Etcd-Hash": hash,
		"X-Amz-Meta-Etcd-Endpoint": m.ClientURL, "X-Amz-Server-Side-Encryption": "aws:kms",
		"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": kmsKey,
	} {
		assert.Equal(t, want, obj.Metadata[name], "object metadata %s", name)
	}

	// It is the snapshot: etcdctl snapshot save taken independently now (no writes since) has the
	// same revision, keys and content hash; and etcdutl restores it (checking its SHA-256 trailer).
	independent := filepath.Join(e.root, "independent.db")
	ctlOut, err := e.ctl("--endpoints="+m.ClientURL, "snapshot", "save", independent)
	require.NoError(t, err, "%s", ctlOut)
	got, want := e.snapshotStatus(t, uploaded), e.snapshotStatus(t, independent)
	assert.Equal(t, want, got, "uploaded snapshot status vs an independent snapshot")
	assert.Equal(t, revision, fmt.Sprint(got.Revision))
	assert.Equal(t, keys, fmt.Sprint(got.TotalKey))
	assert.Equal(t, hash, fmt.Sprint(got.Hash))
	assert.GreaterOrEqual(t, got.TotalKey, int64(300))
	upSum, upSize := fileSHA256(t, uploaded)
	inSum, inSize := fileSHA256(t, independent)
	assert.Equal(t, obj.Size, upSize)
	// etcd streams the database and then its SHA-256: the object is that stream, bit for bit.
	data, err := os.ReadFile(uploaded)
	must(t, err)
	require.Greater(t, len(data), sha256.Size)
	db, trailer := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	dbSum := sha256.Sum256(db)
	assert.Equal(t, hex.EncodeToString(trailer), hex.EncodeToString(dbSum[:]), "SHA-256 trailer of the uploaded snapshot")
	assert.Equal(t, got.TotalSize, int64(len(db)), "database size in the uploaded snapshot")
	restore := exec.Command(filepath.Join(e.bin, "etcdutl"), "snapshot", "restore", uploaded,
		"--data-dir", filepath.Join(e.root, "restored"), "--name", m.Name,
		"--initial-cluster", m.Name+"="+m.PeerURL, "--initial-advertise-peer-urls", m.PeerURL)
	restore.Env = []string{"PATH=/usr/bin:/bin"}
	out, err = restore.CombinedOutput()
	require.NoError(t, err, "etcdutl snapshot restore of the uploaded object (verifies its SHA-256):\n%s", out)

	leftovers, _ := filepath.Glob(filepath.Join(b.WorkDir, "*"))
	assert.Empty(t, leftovers, "the work dir is cleaned (snapshot, AWS CLI home and temp dir)")
	t.Logf("backup under a read-only root with IRSA credentials: s3://%s/%s, %d bytes, sha256 %s (independent snapshot: %d bytes, sha256 %s), revision %s, %s keys; test took %s",
		bucket, key, upSize, upSum, inSize, inSum, revision, keys, time.Since(began).Round(time.Millisecond))
}
