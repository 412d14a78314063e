package validation

import "github.com/anka-ha/anka-build-cloud-aws/internal/imageref"

// Image records a problem unless value is an image reference pinned by a
// version tag or a sha256 digest (internal/imageref: name:tag,
// name@sha256:<64 hex>, name:tag@sha256:<64 hex>); example is the key's
// default, shown as the fix.
func (p *Problems) Image(key, value, example string) bool {
	if _, err := imageref.Pin(value); err != nil {
		p.Addf(key, "%s, got %q: write a pinned reference such as %s, or %s@sha256:<64 lower-case hex digits> to pin one build for good (tags can be moved)",
			err, value, example, nameOf(example))
		return false
	}
	return true
}

func nameOf(ref string) string {
	if r, err := imageref.Parse(ref); err == nil {
		return r.Name()
	}
	return ref
}
