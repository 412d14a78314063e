package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// ReadSnapshot reads a golden file (testdata/<stack>.json) as it is on
// disk, so what is linted is what reviewers read.
func ReadSnapshot(path string) (Snapshot, error) {
	var s Snapshot
	data, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Manifest is one Kubernetes object of a snapshot: the recorded inputs of a
// kubernetes:<group>/<version>:<Kind> resource, which pulumi-kubernetes
// sends to the API server as they are.
type Manifest struct {
	// Resource is the Pulumi resource name (e.g. etcd-members).
	Resource string
	// Kind and Name are the object's (metadata.name).
	Kind, Name string
	// Object is the manifest itself.
	Object map[string]any
}

// Manifests returns the Kubernetes objects of s, in the snapshot's order:
// every kubernetes:* resource whose inputs carry apiVersion and kind. Helm
// releases and other component resources carry neither (the objects of a
// chart are rendered by the provider, not recorded) and are left out.
// Secret values appear as "[secret]" and unknown values as "[unknown]", as
// in the golden file.
func Manifests(s Snapshot) []Manifest {
	var out []Manifest
	for _, r := range s.Resources {
		if !strings.HasPrefix(r.Type, "kubernetes:") {
			continue
		}
		obj, ok := r.Inputs.(map[string]any)
		if !ok {
			continue
		}
		api, _ := obj["apiVersion"].(string)
		kind, _ := obj["kind"].(string)
		if api == "" || kind == "" {
			continue
		}
		name := ""
		if md, ok := obj["metadata"].(map[string]any); ok {
			name, _ = md["name"].(string)
		}
		out = append(out, Manifest{Resource: r.Name, Kind: kind, Name: name, Object: obj})
	}
	return out
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// WriteManifests writes each of Manifests(s) as a JSON file (which every
// YAML reader accepts) into dir, named <n>-<kind>-<resource>.json, and
// returns the paths in the snapshot's order.
func WriteManifests(dir string, s Snapshot) ([]string, error) {
	var paths []string
	for i, m := range Manifests(s) {
		data, err := json.MarshalIndent(m.Object, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", m.Kind, m.Resource, err)
		}
		name := fmt.Sprintf("%03d-%s-%s.json", i, strings.ToLower(m.Kind), unsafeFileChars.ReplaceAllString(m.Resource, "_"))
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, append(data, '\n'), 0o644); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}
