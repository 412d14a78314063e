// Package imageref parses container image references the way the stack's
// config gives them (anka:etcd.image, anka:controller.image, ...), so that a
// malformed one is refused at preview, naming its key, instead of leaving a
// pod in ErrImagePull after `pulumi up`.
//
// The grammar is the Docker/OCI distribution reference grammar of
// github.com/distribution/reference (regexp.go, v0.6.0: alphanumeric,
// separator, pathComponent, domainNameComponent, domainAndPort, tag,
// referencePat; NameTotalLengthMax 255), with the domain split of its
// normalize.go (splitDockerDomain), kept here as a few regular expressions
// rather than a dependency. It is stricter in two places, both on purpose:
//
//   - a digest must be sha256 with exactly 64 lower-case hex digits. The OCI
//     image spec (descriptor.md, "Registered algorithms") requires every
//     implementation to support sha256 and lets sha512 be optional, and
//     defines the sha256 encoding as /[a-f0-9]{64}/; distribution's own
//     pattern accepts any algorithm name and 32+ hex digits of either case,
//     which a registry would then refuse at pull time.
//   - a first path element with upper-case letters is refused rather than
//     taken for a registry host, as splitDockerDomain does: a host of ours
//     always has a "." or a ":port" (or is localhost), and
//     "Veertu/anka-build-cloud-controller" is a typo, not a host.
package imageref

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Grammar pieces, named and written as in distribution/reference's
// regexp.go.
const (
	alphanumeric        = `[a-z0-9]+`
	separator           = `(?:[._]|__|[-]+)`
	pathComponent       = alphanumeric + `(?:` + separator + alphanumeric + `)*`
	domainNameComponent = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
	domainName          = domainNameComponent + `(?:\.` + domainNameComponent + `)*`
	ipv6address         = `\[(?:[a-fA-F0-9:]+)\]`
	domainAndPort       = `(?:` + domainName + `|` + ipv6address + `)(?::[0-9]+)?`
	tagPat              = `[\w][\w.-]{0,127}`
	// sha256Encoded is the OCI image spec's sha256 encoding (descriptor.md).
	sha256Encoded = `[a-f0-9]{64}`
)

// NameTotalLengthMax is the longest name (domain and path) distribution
// accepts.
const NameTotalLengthMax = 255

// DigestAlgorithm is the only digest algorithm accepted.
const DigestAlgorithm = "sha256"

var (
	domainRE    = regexp.MustCompile(`^` + domainAndPort + `$`)
	pathRE      = regexp.MustCompile(`^` + pathComponent + `(?:/` + pathComponent + `)*$`)
	tagRE       = regexp.MustCompile(`^` + tagPat + `$`)
	digestRE    = regexp.MustCompile(`^` + DigestAlgorithm + `:` + sha256Encoded + `$`)
	identifier  = regexp.MustCompile(`^[a-f0-9]{64}$`)
	errEmpty    = errors.New("is empty")
	errSpace    = errors.New("contains white space")
	errTooLong  = fmt.Errorf("has a name longer than %d characters", NameTotalLengthMax)
	errNoPinned = errors.New("names neither a tag nor a digest (it would pull whatever \"latest\" is at the time)")
)

// Ref is a parsed image reference.
type Ref struct {
	// Domain is the registry host with an optional port ("quay.io",
	// "localhost:5000"); "" for Docker Hub.
	Domain string
	// Path is the repository path ("coreos/etcd", "busybox").
	Path string
	// Tag is the tag, "" when none.
	Tag string
	// Digest is "sha256:<64 hex>", "" when none.
	Digest string
}

// Name is the repository name with its registry, without tag or digest.
func (r Ref) Name() string {
	if r.Domain == "" {
		return r.Path
	}
	return r.Domain + "/" + r.Path
}

// String is the reference as written: name[:tag][@digest].
func (r Ref) String() string {
	s := r.Name()
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// Pinned reports whether the reference names a digest, or a tag other than
// "latest": a digest names one image for ever; a tag is mutable (a registry
// may move it), but a version tag is the vendor's promise of one build,
// where "latest" moves by design.
func (r Ref) Pinned() bool {
	return r.Digest != "" || (r.Tag != "" && r.Tag != "latest")
}

// CheckPrefix checks a registry prefix that the stack joins to image
// references with a "/" (anka:buildcloud.imageRegistry): a host with an
// optional port and path, such as
// "123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub", whose join with
// any valid reference is again a valid reference.
func CheckPrefix(s string) error {
	if err := plain(s); err != nil {
		return err
	}
	if strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") {
		return errors.New("must not start or end with \"/\"")
	}
	if strings.ContainsRune(s, '@') {
		return errors.New("must not name a digest (\"@\")")
	}
	_, err := parseName(s + "/x")
	return err
}

// Parse parses name[:tag][@sha256:<64 hex>]. Neither tag nor digest is
// required here; Pin refuses a reference with neither.
func Parse(s string) (Ref, error) {
	if err := plain(s); err != nil {
		return Ref{}, err
	}
	rest, digest, hasDigest := strings.Cut(s, "@")
	var r Ref
	if hasDigest {
		if err := checkDigest(digest); err != nil {
			return Ref{}, err
		}
		r.Digest = digest
	}
	// The tag follows the last ":" after the last "/" (a ":" before it is
	// the registry's port).
	name, tag := rest, ""
	if i := strings.LastIndexByte(rest, ':'); i > strings.LastIndexByte(rest, '/') {
		name, tag = rest[:i], rest[i+1:]
		if !tagRE.MatchString(tag) {
			return Ref{}, fmt.Errorf("has a tag %q that is not a valid tag (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-')", tag)
		}
	}
	n, err := parseName(name)
	if err != nil {
		return Ref{}, err
	}
	n.Tag, n.Digest = tag, r.Digest
	return n, nil
}

// Pin parses s and requires a tag other than latest, or a digest.
func Pin(s string) (Ref, error) {
	r, err := Parse(s)
	if err != nil {
		return Ref{}, err
	}
	if r.Tag == "latest" && r.Digest == "" {
		return Ref{}, errors.New("names the tag \"latest\", which moves: name a version tag or a digest")
	}
	if !r.Pinned() {
		return Ref{}, errNoPinned
	}
	return r, nil
}

func plain(s string) error {
	if s == "" {
		return errEmpty
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f' }) {
		return errSpace
	}
	if strings.Contains(s, "://") {
		return errors.New("must not have a URL scheme")
	}
	return nil
}

func checkDigest(d string) error {
	alg, enc, ok := strings.Cut(d, ":")
	switch {
	case !ok:
		return fmt.Errorf("has a digest %q without an algorithm: write @sha256:<64 hex digits>", d)
	case alg != DigestAlgorithm:
		return fmt.Errorf("has a digest with algorithm %q: only sha256, which every OCI registry supports, is accepted", alg)
	case strings.ToLower(enc) != enc:
		return errors.New("has a digest with upper-case hex digits: sha256 digests are written in lower case")
	case !digestRE.MatchString(d):
		return fmt.Errorf("has a digest that is not 64 hex digits (got %d characters after \"sha256:\")", len(enc))
	}
	return nil
}

func parseName(s string) (Ref, error) {
	if len(s) > NameTotalLengthMax {
		return Ref{}, errTooLong
	}
	if identifier.MatchString(s) {
		return Ref{}, errors.New("is a 64-digit hex identifier, not a repository name")
	}
	var r Ref
	r.Path = s
	if first, rest, ok := strings.Cut(s, "/"); ok && (first == "localhost" || strings.ContainsAny(first, ".:")) {
		if !domainRE.MatchString(first) {
			return Ref{}, fmt.Errorf("has a registry host %q that is not a host name or IP address with an optional :port", first)
		}
		r.Domain, r.Path = first, rest
	}
	if strings.ToLower(r.Path) != r.Path {
		return Ref{}, fmt.Errorf("has a repository %q with upper-case letters: repository names are lower case (a registry host needs a '.' or a ':port')", r.Path)
	}
	if !pathRE.MatchString(r.Path) {
		return Ref{}, fmt.Errorf("has a repository %q that is not a valid name (lower-case letters and digits, separated by '.', '_', '__', '-' or '/')", r.Path)
	}
	return r, nil
}
