package edge

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestEdgeClientCARotationRollsNginx: each step of the client-CA rotation
// (docs/operations.md, "Rotating the mTLS client CA") and a new CRL change
// the NGINX pod template, so `up` rolls the pods (one at a time, under the
// PDB) and NGINX reads the new bundle; the same material changes nothing.
func TestEdgeClientCARotationRollsNginx(t *testing.T) {
	checksum := func(args Args) string {
		rec, _ := run(t, args)
		dep := obj(rec.Get(t, typeDeployment, "edge-nginx"))
		return strMap(t, at(t, dep, "spec", "template", "metadata", "annotations"))[TLSChecksumAnnotation]
	}
	base := nlbArgs(t)
	other := newTestPKI(t, ctrlHost, regHost)

	bundle := base
	bundle.MTLS.CACertificate = base.MTLS.CACertificate + other.ClientCA
	onlyNew := base
	onlyNew.MTLS.CACertificate = other.ClientCA
	onlyNew.MTLS.CRL = other.CRL
	newCRL := bundle // a CRL must come from a CA in the bundle
	newCRL.MTLS.CRL = other.CRL

	before := checksum(base)
	assert.Equal(t, before, checksum(nlbArgs(t)), "the same material must not roll NGINX")
	seen := map[string]string{before: "current CA"}
	for step, args := range map[string]Args{"bundle of both CAs": bundle, "only the new CA": onlyNew, "a new CRL": newCRL} {
		c := checksum(args)
		if prev, dup := seen[c]; dup {
			t.Errorf("%s leaves the pod template as %s did: NGINX would keep the old material", step, prev)
		}
		seen[c] = step
	}
}
