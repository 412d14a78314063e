// Package placeholder finds documentation placeholders left in a stack's
// config: values that pass every syntax check, then fail late on AWS (an ARN
// in account 123456789012, an RFC 5737 documentation range that locks the
// deployer out of the API endpoint, an example.com host name that no
// certificate or DNS record will ever match).
package placeholder

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
)

// Finding is one placeholder at one config key.
type Finding struct {
	// Key is the config key with its path, e.g. anka:cluster.publicAccessCidrs[0].
	Key string
	// Value is the placeholder found and Why says what it is.
	Value, Why string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s is a placeholder (%s): %s", f.Key, f.Value, f.Why)
}

// ExampleAccount is the account id AWS's documentation uses.
const ExampleAccount = "123456789012"

// documentation ranges, RFC 5737 (IPv4) and RFC 3849 (IPv6).
var documentation = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("2001:db8::/32"),
}

var (
	accountInARN = regexp.MustCompile(`^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:` + ExampleAccount + `:`)
	// RFC 2606 reserved names, as a host or inside a URL.
	exampleHost = regexp.MustCompile(`(?i)(^|[/.@])example\.(com|org|net)(\.?)($|[:/])|(^|[/.@])[a-z0-9-]+\.(example|test|invalid)($|[:/])`)
)

// check reports what s is a placeholder for, "" when it is not one.
func check(s string) string {
	switch {
	case accountInARN.MatchString(s):
		return "an ARN in account " + ExampleAccount + ", AWS's documentation account"
	case exampleHost.MatchString(s):
		return "an RFC 2606 example host name: no certificate or DNS record will match it"
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		for _, d := range documentation {
			if d.Overlaps(p) {
				return "an RFC 5737/3849 documentation range: no real client has these addresses"
			}
		}
	}
	if a, err := netip.ParseAddr(s); err == nil {
		for _, d := range documentation {
			if d.Contains(a) {
				return "an RFC 5737/3849 documentation address"
			}
		}
	}
	return ""
}

// Find returns the placeholders in one config value: raw is the value as
// the stack file holds it (a JSON object, list or scalar, or plain text).
func Find(key, raw string) []Finding {
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		v = raw
	}
	var out []Finding
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(path+"."+k, x[k])
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		case string:
			// PEM material and the like are not placeholders of this kind.
			if strings.Contains(x, "\n") {
				return
			}
			if why := check(x); why != "" {
				out = append(out, Finding{Key: path, Value: x, Why: why})
			}
		}
	}
	walk(key, v)
	return out
}
