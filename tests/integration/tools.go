package integration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Module is the project's module path; RepoRoot looks for its go.mod.
const Module = "github.com/anka-ha/anka-build-cloud-aws"

// RepoRoot finds the repository: $ANKA_REPO if set, else the nearest
// directory at or above the working directory whose go.mod declares Module
// (go test runs in the package directory, the scripts in the root).
func RepoRoot() (string, error) {
	if r := os.Getenv("ANKA_REPO"); r != "" {
		return filepath.Abs(r)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(mod, []byte("module "+Module+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s at or above the working directory (set ANKA_REPO)", Module)
		}
		dir = parent
	}
}

// Tools are the pinned tools the local engine needs, from
// scripts/toolchain.sh's cache.
type Tools struct {
	Root string // the repository
	// Cache is $ANKA_CACHE (default ~/.cache/anka-ha).
	Cache string
	// PulumiRoot is the CLI's directory: <PulumiRoot>/bin/pulumi
	// (auto.NewPulumiCommand's Root).
	PulumiRoot string
	// PulumiHome holds plugins/resource-kubernetes-v<version>.
	PulumiHome string
	// Plugin is the installed Kubernetes provider plugin binary.
	Plugin string
	// Kubectl from the k8s toolchain (same version as the API server).
	Kubectl string
}

// toolchain runs scripts/toolchain.sh with args and returns its stdout.
func toolchain(root string, args ...string) (string, error) {
	cmd := exec.Command("bash", append([]string{filepath.Join(root, "scripts", "toolchain.sh")}, args...)...)
	cmd.Dir = root
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("scripts/toolchain.sh %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// BuildTools builds (or, warm, just checks) every pinned tool:
// scripts/toolchain.sh all. Cold this takes 30+ minutes; warm well under a
// second.
func BuildTools(root string, log io.Writer) error {
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "toolchain.sh"), "all")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("scripts/toolchain.sh all: %w", err)
	}
	return nil
}

// FindTools locates the built tools without building anything; an error
// names what is missing and the command that builds it.
func FindTools(root string) (*Tools, error) {
	env, err := toolchain(root, "env")
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for _, line := range strings.Split(env, "\n") {
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if ok {
			vars[k] = unquote(v)
		}
	}
	t := &Tools{Root: root, Cache: vars["ANKA_CACHE"], PulumiHome: vars["PULUMI_HOME"]}
	if t.Cache == "" || t.PulumiHome == "" {
		return nil, fmt.Errorf("scripts/toolchain.sh env printed no ANKA_CACHE/PULUMI_HOME:\n%s", env)
	}
	if t.PulumiRoot, err = toolchain(root, "dir", "pulumi"); err != nil {
		return nil, err
	}
	k8s, err := toolchain(root, "dir", "k8s")
	if err != nil {
		return nil, err
	}
	t.Kubectl = filepath.Join(k8s, "bin", "kubectl")
	etcdDir, err := toolchain(root, "dir", "etcd")
	if err != nil {
		return nil, err
	}
	kwokDir, err := toolchain(root, "dir", "kwok")
	if err != nil {
		return nil, err
	}
	plugins, _ := filepath.Glob(filepath.Join(t.PulumiHome, "plugins", "resource-kubernetes-v*", "pulumi-resource-kubernetes"))
	if len(plugins) > 0 {
		t.Plugin = plugins[len(plugins)-1]
	}
	var missing []string
	// scripts/localcluster.sh would build the control plane's tools itself;
	// a test must not start a half-hour build, so they are checked too.
	for _, f := range []string{
		filepath.Join(t.PulumiRoot, "bin", "pulumi"), t.Plugin, t.Kubectl,
		filepath.Join(k8s, "bin", "kube-apiserver"), filepath.Join(k8s, "bin", "kube-controller-manager"),
		filepath.Join(k8s, "bin", "kube-scheduler"), filepath.Join(etcdDir, "bin", "etcd"), filepath.Join(kwokDir, "bin", "kwok"),
	} {
		if f == "" {
			missing = append(missing, filepath.Join(t.PulumiHome, "plugins", "resource-kubernetes-v*", "pulumi-resource-kubernetes"))
			continue
		}
		if st, err := os.Stat(f); err != nil || st.Mode()&0o111 == 0 {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s; build them with scripts/toolchain.sh all (cold: about 30 minutes on 2 cores, cached by version under %s)",
			ErrToolsMissing, strings.Join(missing, ", "), t.Cache)
	}
	return t, nil
}

// ErrToolsMissing: the toolchain has not been built on this machine.
var ErrToolsMissing = errors.New("local toolchain not built")

// unquote undoes bash's printf %q for the plain paths toolchain.sh prints.
func unquote(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return v[1 : len(v)-1]
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}
