package etcd

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/pki"
	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
)

// Now is the clock validation reads (tests set it). Only validation reads
// it: the certificates depend on config alone, so previews stay empty.
var Now = time.Now

// TLSWarnDays: fewer days than this left on the certificates warns at every
// preview; the certificate alert (components/monitoring) fires at the same
// horizon.
const TLSWarnDays = 30

// TLSRenewSection is the runbook section a warning or error points to.
const TLSRenewSection = `docs/operations.md "Renewing etcd's certificates"`

// setNotBefore is the command that renews the certificates from today.
const setNotBefore = `pulumi config set --path anka:etcd.tls.notBefore "$(date -u +%F)"`

// TLSTrustAnnotation is the pod-template annotation naming what the CA
// bundles trust (generations and date): etcd reads --trusted-ca-file and
// --peer-trusted-ca-file only at start (go.etcd.io/etcd/client/pkg/v3
// v3.6.16, transport/listener.go: TLSInfo.ServerConfig/ClientConfig build
// ClientCAs/RootCAs once with tlsutil.NewCertPool), while it loads its key
// pairs on every handshake (baseConfig's GetCertificate and
// GetClientCertificate). So a trust change (rotation steps 1 and 3, a
// renewal) rolls the members one at a time (the StatefulSet's rolling
// update) and a leaf change alone (step 2) restarts nothing. It names the
// config, not the bytes: a new seed trusts nothing in common with the old
// one, and rolling members one at a time into it would only break quorum
// member by member ("Replacing the etcd TLS seed" restarts them together).
const TLSTrustAnnotation = "anka.io/etcd-tls-trust"

// tlsNotBefore parses anka:etcd.tls.notBefore as midnight UTC.
func (a Args) tlsNotBefore() (time.Time, error) {
	return time.Parse(time.DateOnly, a.TLS.NotBefore)
}

// tlsParams are the derivation inputs these args give (WithDefaults args).
func (a Args) tlsParams() (pki.Params, error) {
	seed, err := pki.DecodeSeed(a.TLSSeed)
	if err != nil {
		return pki.Params{}, err
	}
	nb, err := a.tlsNotBefore()
	if err != nil {
		return pki.Params{}, err
	}
	s := a.Settings()
	return pki.Params{
		Seed:       seed,
		Scope:      pki.Scope{Stack: a.StackIdentity, Namespace: a.Namespace},
		Generation: a.TLS.Generation,
		RotateFrom: a.TLS.RotateFrom,
		NotBefore:  nb,
		DNSNames: []string{
			fmt.Sprintf("*.%s.%s.svc.%s", s.HeadlessService, a.Namespace, s.ClusterDomain),
			fmt.Sprintf("etcd-client.%s.svc.%s", a.Namespace, s.ClusterDomain),
			"etcd-client." + a.Namespace + ".svc",
		},
	}, nil
}

// TLSBundle derives the certificates the component deploys; the stack's
// monitoring reads their dates from the same call. Call it on validated
// args with TLS on.
func (a Args) TLSBundle() (pki.EtcdBundle, error) {
	p, err := a.WithDefaults().tlsParams()
	if err != nil {
		return pki.EtcdBundle{}, err
	}
	return pki.NewEtcdBundle(p)
}

// tlsTrust is TLSTrustAnnotation's value, e.g. "generations 1,2 from
// 2026-11-30".
func (a Args) tlsTrust() string {
	return "generations " + a.trustedGenerations() + " from " + a.WithDefaults().TLS.NotBefore
}

// trustedGenerations are the generations the CA bundles hold, e.g. "1,2".
func (a Args) trustedGenerations() string {
	a = a.WithDefaults()
	var gens []string
	for _, g := range (pki.Params{Generation: a.TLS.Generation, RotateFrom: a.TLS.RotateFrom}).Trusted() {
		gens = append(gens, strconv.Itoa(g))
	}
	return strings.Join(gens, ",")
}

// validateTLS reports the TLS problems of defaulted args.
func (a Args) validateTLS(p *validation.Problems) {
	if !*a.TLS.Enabled {
		return
	}
	if _, err := pki.DecodeSeed(a.TLSSeed); err != nil {
		p.Addf("anka:etcdTlsSeed", "must be a secret of at least 64 hex characters (32 random bytes) from which etcd's certificates are derived, got %d characters%s: pulumi config set --secret anka:etcdTlsSeed \"$(openssl rand -hex 32)\" (or set anka:etcd.tls.enabled false in dev). Changing the seed of a running cluster replaces every certificate at once: see %s",
			len(a.TLSSeed), notHex(a.TLSSeed), `docs/operations.md "Rotating etcd's certificates"`)
	}
	if a.TLS.Generation < 1 {
		p.Addf("anka:etcd.tls.generation", "must be at least 1, got %d", a.TLS.Generation)
	}
	if r := a.TLS.RotateFrom; r != 0 && r != a.TLS.Generation && r != a.TLS.Generation-1 {
		p.Addf("anka:etcd.tls.rotateFrom", "must be unset, anka:etcd.tls.generation (%d, rotation step 1) or one less (%d, step 2), got %d: follow docs/operations.md \"Rotating etcd's certificates\" one step at a time",
			a.TLS.Generation, a.TLS.Generation-1, r)
	}
	if a.TLS.NotBefore == "" {
		p.Addf("anka:etcd.tls.notBefore", "must be set while etcd TLS is on: the date (YYYY-MM-DD, UTC) the certificates are valid from, for %d days; set it to today: %s", int(pki.LeafValidity.Hours()/24), setNotBefore)
		return
	}
	nb, err := a.tlsNotBefore()
	if err != nil {
		p.Addf("anka:etcd.tls.notBefore", "must be a date YYYY-MM-DD (UTC), got %q: %s", a.TLS.NotBefore, setNotBefore)
		return
	}
	now := Now().UTC()
	// The certificates start a day before the date (pki.Backdate): a date
	// up to a day ahead is already valid; a later one is not yet.
	if nb.Add(-pki.Backdate).After(now) {
		p.Addf("anka:etcd.tls.notBefore", "must not be more than a day in the future (certificates valid from %s would be refused until then), got %s: %s",
			nb.Add(-pki.Backdate).Format(time.DateOnly), a.TLS.NotBefore, setNotBefore)
	}
	if end := nb.Add(pki.LeafValidity); !now.Before(end) {
		p.Addf("anka:etcd.tls.notBefore", "gives certificates that expired on %s (valid %d days from %s): renew them with %s, then pulumi up (%s)",
			end.Format(time.RFC3339), int(pki.LeafValidity.Hours()/24), a.TLS.NotBefore, setNotBefore, TLSRenewSection)
	}
}

func notHex(s string) string {
	if _, err := hex.DecodeString(s); err != nil && s != "" {
		return " and is not hex"
	}
	return ""
}

// TLSNotAfter is the earliest expiry of the certificates these args give
// (zero without TLS or with a date that does not parse).
func (a Args) TLSNotAfter() time.Time {
	a = a.WithDefaults()
	if !*a.TLS.Enabled {
		return time.Time{}
	}
	nb, err := a.tlsNotBefore()
	if err != nil {
		return time.Time{}
	}
	return pki.Params{NotBefore: nb}.LeafNotAfter()
}

// Warnings are the preview warnings of valid args: certificates that expire
// within TLSWarnDays.
func (a Args) Warnings() []string {
	end := a.TLSNotAfter()
	if end.IsZero() {
		return nil
	}
	if left := end.Sub(Now()); left > 0 && left < TLSWarnDays*24*time.Hour {
		return []string{fmt.Sprintf("etcd's certificates expire on %s (in %d days; anka:etcd.tls.notBefore is %s): renew them now with %s, then pulumi up (%s); the members restart one at a time",
			end.Format(time.RFC3339), int(left.Hours()/24), a.TLS.NotBefore, setNotBefore, TLSRenewSection)}
	}
	return nil
}

// TLSGenerationsAnnotation, on the StatefulSet's metadata (no rollout),
// records which generation the certificates come from and which ones the
// members trust ("certificates 1; trusted 1,2"): the deployed value is what
// the running members hold, so the StatefulSet's update hook can refuse a
// step that would hand them certificates they refuse (GenerationChangeError).
const TLSGenerationsAnnotation = "anka.io/etcd-tls-generations"

// tlsGenerations is TLSGenerationsAnnotation's value, "" without TLS.
func (a Args) tlsGenerations() string {
	a = a.WithDefaults()
	if !*a.TLS.Enabled {
		return ""
	}
	return fmt.Sprintf(tlsGenerationsFormat, a.TLS.Generation, a.trustedGenerations())
}

// tlsGenerationsFormat writes and reads TLSGenerationsAnnotation.
const tlsGenerationsFormat = "certificates %d; trusted %s"

// ClientTLSVersion names what the client Secret (ClientSecretName) holds:
// the certificates' generation, the generations its ca.crt trusts and the
// date they are valid from; "" without TLS. A client that reads the files
// only at start (the Controller) carries it as a pod annotation so that a
// renewal or a rotation step restarts it onto the new files.
func (a Args) ClientTLSVersion() string {
	g := a.tlsGenerations()
	if g == "" {
		return ""
	}
	return g + " from " + a.WithDefaults().TLS.NotBefore
}

// GenerationChangeError refuses, at preview, a generation change the
// running members cannot follow: the Secrets change on every member within
// a minute (the kubelet refreshes Secret volumes, and etcd loads key pairs
// on every handshake), so certificates of a generation the deployed
// members do not trust yet (rotation step 1 skipped or merged with step 2)
// would be refused by every member still running, and quorum would go.
// deployed and planned are TLSGenerationsAnnotation values; nil when either
// is empty (the first deployment, TLS turned on or off, a stack from before
// the annotation) or the planned certificates are trusted.
func GenerationChangeError(deployed, planned string) error {
	var oldCert, newCert int
	var oldTrust, newTrust string
	if _, err := fmt.Sscanf(deployed, tlsGenerationsFormat, &oldCert, &oldTrust); err != nil {
		return nil
	}
	if _, err := fmt.Sscanf(planned, tlsGenerationsFormat, &newCert, &newTrust); err != nil {
		return nil
	}
	for _, g := range strings.Split(oldTrust, ",") {
		if g == strconv.Itoa(newCert) {
			return nil
		}
	}
	return fmt.Errorf("anka:etcd.tls.generation cannot become %d yet: the running etcd members trust only generation %s and would refuse its certificates, losing quorum. Do rotation step 1 first, with the generation back at %d: %s && %s, then pulumi up; then step 2 (docs/operations.md \"Rotating etcd's certificates\")",
		newCert, oldTrust, oldCert, setPath("anka:etcd.tls.generation", oldCert), setPath("anka:etcd.tls.rotateFrom", oldCert))
}

// setPath is the command that sets an integer key.
func setPath(key string, v int) string {
	return "pulumi config set --path " + key + " " + strconv.Itoa(v)
}
