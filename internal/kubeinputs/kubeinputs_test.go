package kubeinputs

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
)

func TestAnnotation(t *testing.T) {
	in := resource.NewPropertyMapFromMap(map[string]any{
		"metadata": map[string]any{"annotations": map[string]any{"a": "1", "n": 2}},
	})
	assert.Equal(t, "1", Annotation(in, "a"))
	assert.Equal(t, "", Annotation(in, "missing"))
	assert.Equal(t, "", Annotation(in, "n"), "a non-string value is not an annotation")
	assert.Equal(t, "", Annotation(resource.PropertyMap{}, "a"))
	unknown := resource.PropertyMap{"metadata": resource.MakeComputed(resource.NewStringProperty(""))}
	assert.Equal(t, "", Annotation(unknown, "a"))
}
