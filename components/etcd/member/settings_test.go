package member

import (
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
)

func TestSettingsWithDefaultsPinsDefaults(t *testing.T) {
	got := Settings{Namespace: "anka"}.WithDefaults()
	want := Settings{
		StatefulSetName: "etcd", Replicas: 3, Namespace: "anka", HeadlessService: "etcd-headless",
		ClusterDomain: "cluster.local", ClientPort: 2379, PeerPort: 2380, MetricsPort: 2381,
		ListenHost: "0.0.0.0", DataDir: "/var/lib/etcd/data", ClusterToken: "anka-etcd",
		HeartbeatIntervalMs: 250, ElectionTimeoutMs: 2500, QuotaBackendBytes: 8 << 30,
		AutoCompactionRetention: "1h", SnapshotCount: 10000, MaxLearners: 1,
		ToolsDir: "/anka/bin", ScriptsDir: "/anka/scripts", EtcdBinDir: "/usr/local/bin",
		Members: []Member{}, ExtraArgs: []string{},
	}
	want.Members, want.ExtraArgs = nil, nil
	assert.Equal(t, want, got)
	assert.NoError(t, got.Validate())

	tls := Settings{Namespace: "anka", TLS: TLS{Enabled: true}}.WithDefaults()
	assert.Equal(t, TLS{Enabled: true, CAFile: "/etc/etcd/tls/ca.crt", PeerCAFile: "/etc/etcd/tls/peer-ca.crt",
		ServerCertFile: "/etc/etcd/tls/server.crt", ServerKeyFile: "/etc/etcd/tls/server.key",
		PeerCertFile: "/etc/etcd/tls/peer.crt", PeerKeyFile: "/etc/etcd/tls/peer.key",
		ClientCertFile: "/etc/etcd/tls/client.crt", ClientKeyFile: "/etc/etcd/tls/client.key"}, tls.TLS)
	assert.Equal(t, "https://etcd-1.etcd-headless.anka.svc.cluster.local:2380", tls.MemberList()[1].PeerURL)
	assert.NoError(t, tls.Validate())
}

func TestSettingsValidate(t *testing.T) {
	base := func(f func(*Settings)) Settings {
		s := Settings{Namespace: "anka"}
		if f != nil {
			f(&s)
		}
		return s.WithDefaults()
	}
	cases := []struct {
		name     string
		settings Settings
		sentinel error
		want     []string
	}{
		{"the defaults are valid", base(nil), nil, nil},
		{"five replicas are valid", base(func(s *Settings) { s.Replicas = 5 }), nil, nil},
		{"an even replica count is refused", base(func(s *Settings) { s.Replicas = 2 }), ErrReplicas,
			[]string{"anka:etcd.replicas must be odd and at least 3 (at most 7), got 2"}},
		{"a single replica is refused", base(func(s *Settings) { s.Replicas = 1 }), ErrReplicas,
			[]string{"anka:etcd.replicas must be odd and at least 3 (at most 7), got 1"}},
		{"nine replicas are refused", base(func(s *Settings) { s.Replicas = 9 }), ErrReplicas,
			[]string{"got 9"}},
		{"an election timeout below 5x the heartbeat is refused", base(func(s *Settings) { s.ElectionTimeoutMs = 1000 }), ErrElectionTimeout,
			[]string{"anka:etcd.electionTimeoutMs must be at least 5x anka:etcd.heartbeatIntervalMs (etcd's rule), got electionTimeoutMs=1000 heartbeatIntervalMs=250"}},
		{"an election timeout above etcd's limit is refused", base(func(s *Settings) { s.ElectionTimeoutMs = 60000 }), ErrElectionTimeout,
			[]string{"anka:etcd.electionTimeoutMs must be at most 50000 (etcd's limit), got 60000"}},
		{"a quota above 16 GiB is refused", base(func(s *Settings) { s.QuotaBackendBytes = 32 << 30 }), ErrQuotaBackendBytes,
			[]string{"anka:etcd.quotaBackendBytes must be between 67108864 (64 MiB) and 17179869184 (16 GiB; etcd recommends at most 8 GiB = 8589934592), got 34359738368"}},
		{"a 16 GiB quota is accepted", base(func(s *Settings) { s.QuotaBackendBytes = 16 << 30 }), nil, nil},
		{"a tiny quota is refused", base(func(s *Settings) { s.QuotaBackendBytes = 1 << 20 }), ErrQuotaBackendBytes, []string{"got 1048576"}},
		{"an unparsable retention is refused", base(func(s *Settings) { s.AutoCompactionRetention = "an hour" }), ErrAutoCompactionRetention,
			[]string{`anka:etcd.autoCompactionRetention must be a duration like "1h" or "30m" or whole hours like "1", got "an hour"`}},
		{"a zero retention is refused", base(func(s *Settings) { s.AutoCompactionRetention = "0" }), ErrAutoCompactionRetention,
			[]string{`anka:etcd.autoCompactionRetention must be positive, got "0"`}},
		{"whole hours are a valid retention", base(func(s *Settings) { s.AutoCompactionRetention = "2" }), nil, nil},
		{"relative TLS paths are refused", base(func(s *Settings) { s.TLS = TLS{Enabled: true, CAFile: "ca.crt"} }), ErrInvalidSetting,
			[]string{`anka:etcd.tls.caFile must be an absolute path, got "ca.crt"`}},
		{"a data dir right under / is refused", base(func(s *Settings) { s.DataDir = "/data" }), ErrInvalidSetting,
			[]string{`etcd DataDir must be a clean absolute path below the volume's mount point (not directly under /), got "/data"`}},
		{"a member list of the wrong length is refused", base(func(s *Settings) {
			s.Members = []Member{{Name: "etcd-0", PeerURL: "http://127.0.0.1:1", ClientURL: "http://127.0.0.1:2"}}
		}), ErrInvalidSetting, []string{"etcd Members lists 1 members but anka:etcd.replicas is 3"}},
		{"http URLs with TLS on are refused", base(func(s *Settings) {
			s.TLS.Enabled = true
			s.Members = []Member{
				{Name: "etcd-0", PeerURL: "http://127.0.0.1:1", ClientURL: "https://127.0.0.1:2"},
				{Name: "etcd-1", PeerURL: "https://127.0.0.1:3", ClientURL: "https://127.0.0.1:4"},
				{Name: "etcd-2", PeerURL: "https://127.0.0.1:5", ClientURL: "https://127.0.0.1:6"},
			}
		}), ErrInvalidSetting, []string{`etcd member etcd-0 peer URL must be https://host:port, got "http://127.0.0.1:1"`}},
		{"every problem is reported at once", base(func(s *Settings) {
			s.Replicas, s.ElectionTimeoutMs, s.QuotaBackendBytes, s.AutoCompactionRetention = 4, 500, 64<<30, "soon"
		}), ErrReplicas, []string{"anka:etcd.replicas", "anka:etcd.electionTimeoutMs", "anka:etcd.quotaBackendBytes", "anka:etcd.autoCompactionRetention"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.settings.Validate()
			if c.sentinel == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, errors.Is(err, c.sentinel), "errors.Is(%v, %v)", err, c.sentinel)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestParseRetention(t *testing.T) {
	for in, want := range map[string]time.Duration{"1h": time.Hour, "30m": 30 * time.Minute, "3": 3 * time.Hour} {
		got, err := ParseRetention(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "0", "-1h", "h", "1 h"} {
		_, err := ParseRetention(in)
		assert.Error(t, err, in)
	}
}

// renderEnv writes an env list as NAME=VALUE lines; downward-API entries as NAME=<fieldRef PATH>.
func renderEnv(env []EnvVar) string {
	var b strings.Builder
	for _, v := range env {
		if v.FieldPath != "" {
			b.WriteString(v.Name + "=<fieldRef " + v.FieldPath + ">\n")
			continue
		}
		b.WriteString(v.Name + "=" + v.Value + "\n")
	}
	return b.String()
}

// TestSettingsEnvMatchesGolden pins the container's environment and commands for production-like
// settings (TLS on, defaults otherwise) and the backup CronJob's.
func TestSettingsEnvMatchesGolden(t *testing.T) {
	s := Settings{Namespace: "anka", TLS: TLS{Enabled: true}}.WithDefaults()
	require.NoError(t, s.Validate())
	b := Backup{Bucket: "anka-etcd-backups"}.WithDefaults()
	require.NoError(t, b.Validate())
	var out strings.Builder
	out.WriteString("# etcd container (StatefulSet), env:\n" + renderEnv(s.Env()))
	out.WriteString("# command: " + strings.Join(s.Command(ModeStart), " ") + "\n")
	out.WriteString("# prune Job command: " + strings.Join(s.Command(ModePrune), " ") + "\n")
	out.WriteString("# init container (busybox): " + strings.Join(s.InitCommand(), " ") + "\n")
	out.WriteString("# init container (etcd image, backup pod): " + strings.Join(s.EtcdToolsCopyCommand(), " ") + "\n")
	out.WriteString("# backup container, env:\n" + renderEnv(b.Env(s)))
	out.WriteString("# command: " + strings.Join(b.Command(s), " ") + "\n")
	out.WriteString("# ANKA_ETCD_ENDPOINTS for the Controller: " + s.ClientEndpoints() + "\n")
	harness.CompareGoldenText(t, filepath.Join("testdata", "pod.golden"), out.String())
}

// TestSettingsEnvMatchesScripts: every variable Env renders is read by the scripts and every
// ANKA_ETCD_* variable the scripts read is rendered (the knobs listed as optional excepted), and no
// variable is one etcd or etcdctl would read as a flag.
func TestSettingsEnvMatchesScripts(t *testing.T) {
	s := Settings{Namespace: "anka", TLS: TLS{Enabled: true}, ExtraArgs: []string{"--log-level=info"}}.WithDefaults()
	b := Backup{Bucket: "x", KMSKeyID: "alias/x"}.WithDefaults()
	rendered := map[string]bool{}
	for _, v := range append(s.PruneEnv(), b.Env(s)...) {
		rendered[v.Name] = true
		assert.False(t, strings.HasPrefix(v.Name, "ETCD"), "%s would be read by etcd/etcdctl as a flag", v.Name)
	}
	scripts := Script + BackupScript
	for name := range rendered {
		if name != "PATH" {
			reads := regexp.MustCompile(`\$\{?` + name + `\b`).MatchString(scripts)
			assert.True(t, reads, "%s is rendered but no script reads it", name)
		}
	}
	optional := map[string]bool{"ANKA_ETCD_DIAL_TIMEOUT": true, "ANKA_ETCD_COMMAND_TIMEOUT": true, "ANKA_ETCD_PROBE_TIMEOUT": true,
		"ANKA_ETCD_JOIN_TIMEOUT_S": true, "ANKA_ETCD_PRUNE_TIMEOUT_S": true, "ANKA_ETCD_DEFRAG_TIMEOUT": true}
	read := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{?(ANKA_[A-Z_]+)`).FindAllStringSubmatch(scripts, -1) {
		read[m[1]] = true
	}
	var missing []string
	for name := range read {
		if !rendered[name] && !optional[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "read by the scripts but not rendered by Env")
}

// TestScriptFallbacksAreTheGoDefaults: where a script repeats a Go default
// as the fallback of a variable Go renders (${VAR:-value}), the two agree,
// so the script run by hand (or a variable dropped from Env) behaves as the
// pod does. The inputs a script refuses to run without fall back to "",
// and the prune Job's PruneSkipEnv is a mode that only PruneEnv sets.
func TestScriptFallbacksAreTheGoDefaults(t *testing.T) {
	s := Settings{Namespace: "anka"}.WithDefaults()
	b := Backup{Bucket: "anka-etcd-backups"}.WithDefaults()
	rendered := map[string]string{}
	for _, v := range append(s.Env(), b.Env(s)...) {
		rendered[v.Name] = v.Value
	}
	required := map[string]bool{"ANKA_ETCD_INITIAL_CLUSTER": true, "ANKA_ETCD_CLIENT_URLS": true, "ANKA_ETCD_ENDPOINTS": true, "ANKA_BACKUP_BUCKET": true}
	compared := 0
	for name, script := range map[string]string{ScriptName: Script, BackupScriptName: BackupScript} {
		for _, m := range regexp.MustCompile(`\$\{(ANKA_[A-Z_]+):-([^}]*)\}`).FindAllStringSubmatch(script, -1) {
			v, isRendered := rendered[m[1]]
			switch {
			case required[m[1]]:
				assert.Empty(t, m[2], "%s: %s is required; an empty fallback makes the script refuse to run without it", name, m[1])
				assert.True(t, strings.Contains(script, m[1]+" is not set"), "%s refuses to run without %s", name, m[1])
			case isRendered && v != "":
				compared++
				assert.Equal(t, v, m[2], "%s: the fallback of %s is not the Go default", name, m[1])
			}
		}
	}
	assert.GreaterOrEqual(t, compared, 12, "the fallbacks compared")
	assert.Equal(t, DefaultClusterToken, rendered["ANKA_ETCD_CLUSTER_TOKEN"])
}

func TestMemberScriptsParseUnderBusybox(t *testing.T) {
	bb := busybox(t)
	for name, text := range map[string]string{ScriptName: Script, BackupScriptName: BackupScript} {
		cmd := exec.Command(bb, "sh", "-n", "/dev/stdin")
		cmd.Stdin = strings.NewReader(text)
		out, err := cmd.CombinedOutput()
		assert.NoError(t, err, "%s: %s", name, out)
	}
}

func TestBackupValidate(t *testing.T) {
	assert.NoError(t, Backup{Bucket: "b"}.WithDefaults().Validate())
	err := Backup{Bucket: "", Prefix: "/x", SSE: "none", KMSKeyID: "k"}.WithDefaults().Validate()
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrBackup))
	for _, w := range []string{"anka:etcd.backup.bucket", "anka:etcd.backup.prefix", `anka:etcd.backup.sse must be aws:kms or AES256, got "none"`, "anka:etcd.backup.kmsKeyId"} {
		assert.Contains(t, err.Error(), w)
	}
}
