package member

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// Backup defaults.
const (
	DefaultBackupPrefix  = "etcd-snapshots"
	DefaultBackupSSE     = "aws:kms"
	DefaultBackupWorkDir = "/backup"
	DefaultAWSBinDir     = "/usr/local/bin"
)

// ErrBackup marks invalid backup settings.
var ErrBackup = errors.New("invalid etcd backup setting")

// Backup configures backup.sh, run by the backup CronJob in a pinned amazon/aws-cli image. Its
// tools dir gets busybox (Settings.InitCommand) and then etcdctl/etcdutl (Settings.EtcdToolsCopyCommand,
// run in the etcd image).
type Backup struct {
	// Bucket receives the snapshots (anka:etcd.backup.bucket). Required.
	Bucket string `json:"bucket"`
	// Prefix of the object keys: s3://<Bucket>/<Prefix>/<UTC timestamp>.db (anka:etcd.backup.prefix).
	// Default "etcd-snapshots".
	Prefix string `json:"prefix,omitempty"`
	// SSE is the server-side encryption: "aws:kms" or "AES256" (anka:etcd.backup.sse). Default aws:kms.
	SSE string `json:"sse,omitempty"`
	// KMSKeyID is the KMS key for aws:kms; empty uses the bucket's default key (anka:etcd.backup.kmsKeyId).
	KMSKeyID string `json:"kmsKeyId,omitempty"`
	// WorkDir holds the snapshot file while it is verified and uploaded (an emptyDir sized for the
	// database, up to the quota), and the AWS CLI's HOME and TMPDIR (HomeDir, TempDir), the only
	// writable place in the container. Default /backup.
	WorkDir string `json:"workDir,omitempty"`
	// AWSBinDir is where the image keeps the aws CLI. Default /usr/local/bin.
	AWSBinDir string `json:"awsBinDir,omitempty"`
}

// WithDefaults returns a copy with every zero field set to its default.
func (b Backup) WithDefaults() Backup {
	if b.Prefix == "" {
		b.Prefix = DefaultBackupPrefix
	}
	if b.SSE == "" {
		b.SSE = DefaultBackupSSE
	}
	if b.WorkDir == "" {
		b.WorkDir = DefaultBackupWorkDir
	}
	if b.AWSBinDir == "" {
		b.AWSBinDir = DefaultAWSBinDir
	}
	return b
}

// Validate returns every problem of defaulted backup settings at once.
func (b Backup) Validate() error {
	var errs []error
	add := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrBackup}, a...)...))
	}
	if b.Bucket == "" || strings.ContainsAny(b.Bucket, "/ ") {
		add("anka:etcd.backup.bucket must be a bucket name, got %q", b.Bucket)
	}
	if strings.HasPrefix(b.Prefix, "/") || strings.Contains(b.Prefix, " ") {
		add("anka:etcd.backup.prefix must not start with '/' or contain spaces, got %q", b.Prefix)
	}
	if b.SSE != "aws:kms" && b.SSE != "AES256" {
		add("anka:etcd.backup.sse must be aws:kms or AES256, got %q", b.SSE)
	}
	if b.KMSKeyID != "" && b.SSE != "aws:kms" {
		add("anka:etcd.backup.kmsKeyId needs anka:etcd.backup.sse aws:kms, got sse %q", b.SSE)
	}
	if !path.IsAbs(b.WorkDir) || !path.IsAbs(b.AWSBinDir) {
		add("etcd backup WorkDir and AWSBinDir must be absolute paths, got %q and %q", b.WorkDir, b.AWSBinDir)
	}
	return errors.Join(errs...)
}

// Env renders the backup container's environment for the members described by s.
func (b Backup) Env(s Settings) []EnvVar {
	env := []EnvVar{
		{Name: "PATH", Value: s.ToolsDir + ":" + b.AWSBinDir + ":/usr/bin:/bin"},
		{Name: "ANKA_ETCD_ENDPOINTS", Value: s.ClientEndpoints()},
		{Name: "ANKA_ETCD_TLS", Value: fmt.Sprint(s.TLS.Enabled)},
	}
	if s.TLS.Enabled {
		env = append(env,
			EnvVar{Name: "ANKA_ETCD_TLS_CA_FILE", Value: s.TLS.CAFile},
			EnvVar{Name: "ANKA_ETCD_TLS_CLIENT_CERT_FILE", Value: s.TLS.ClientCertFile},
			EnvVar{Name: "ANKA_ETCD_TLS_CLIENT_KEY_FILE", Value: s.TLS.ClientKeyFile},
		)
	}
	env = append(env,
		EnvVar{Name: "ANKA_BACKUP_BUCKET", Value: b.Bucket},
		EnvVar{Name: "ANKA_BACKUP_PREFIX", Value: b.Prefix},
		EnvVar{Name: "ANKA_BACKUP_SSE", Value: b.SSE},
	)
	if b.KMSKeyID != "" {
		env = append(env, EnvVar{Name: "ANKA_BACKUP_SSE_KMS_KEY_ID", Value: b.KMSKeyID})
	}
	return append(env,
		EnvVar{Name: "ANKA_BACKUP_WORK_DIR", Value: b.WorkDir},
		// The root filesystem is read-only: the AWS CLI's home and temp dir are in the work
		// emptyDir. With IRSA the CLI caches the assumed role's credentials under
		// $HOME/.aws/cli/cache and fails the command when it cannot (aws/aws-cli#7376).
		EnvVar{Name: "HOME", Value: b.HomeDir()},
		EnvVar{Name: "TMPDIR", Value: b.TempDir()},
	)
}

// HomeDir is the backup container's HOME: WorkDir/home, created and removed by backup.sh.
func (b Backup) HomeDir() string { return path.Join(b.WorkDir, "home") }

// TempDir is the backup container's TMPDIR: WorkDir/tmp, created and removed by backup.sh.
func (b Backup) TempDir() string { return path.Join(b.WorkDir, "tmp") }

// Command is the backup container's command.
func (b Backup) Command(s Settings) []string {
	return []string{path.Join(s.ToolsDir, "busybox"), "sh", path.Join(s.ScriptsDir, BackupScriptName)}
}
