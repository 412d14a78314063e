package harness

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestManifestsAreTheKubernetesObjectsOfASnapshot(t *testing.T) {
	cm := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "conf"}, "data": map[string]any{"k": SecretPlaceholder}}
	s := Snapshot{Resources: []SnapshotResource{
		{Type: "aws:s3/bucket:Bucket", Name: "b", Inputs: map[string]any{"apiVersion": "x", "kind": "y"}},
		{Type: "kubernetes:helm.sh/v3:Release", Name: "chart", Inputs: map[string]any{"chart": "c"}},
		{Type: "kubernetes:core/v1:ConfigMap", Name: "etcd/conf", Inputs: cm},
	}}
	got := Manifests(s)
	require.Len(t, got, 1, "only kubernetes:* resources with apiVersion and kind are objects")
	require.Equal(t, Manifest{Resource: "etcd/conf", Kind: "ConfigMap", Name: "conf", Object: cm}, got[0])

	files, err := WriteManifests(t.TempDir(), s)
	require.NoError(t, err)
	require.Len(t, files, 1)
	require.Equal(t, "000-configmap-etcd_conf.json", filepath.Base(files[0]))
	data, err := os.ReadFile(files[0])
	require.NoError(t, err)
	var back map[string]any
	require.NoError(t, json.Unmarshal(data, &back))
	require.Equal(t, cm, back, "written as recorded")
}
