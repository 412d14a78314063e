// Package validation collects configuration problems so that one preview
// reports every bad key at once, each error naming the key as it is written
// in Pulumi.<stack>.yaml together with the bad value and the fix.
package validation

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
)

// FieldError is one problem with one configuration key.
type FieldError struct {
	// Key is the full config key, e.g. "anka:etcd.replicas".
	Key string
	// Msg completes the sentence that starts with the key.
	Msg string
}

func (e *FieldError) Error() string { return e.Key + " " + e.Msg }

// Problems accumulates FieldErrors. The zero value is ready to use.
type Problems struct {
	errs []error
}

// Addf records that key is wrong; the message should say what was expected,
// what was found and, where it is not obvious, how to fix it.
func (p *Problems) Addf(key, format string, args ...any) {
	p.errs = append(p.errs, &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
}

// Merge adds every problem carried by err (which may come from errors.Join).
func (p *Problems) Merge(err error) {
	if err == nil {
		return
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		p.errs = append(p.errs, joined.Unwrap()...)
		return
	}
	p.errs = append(p.errs, err)
}

// Err returns nil when nothing was recorded, or all problems joined.
func (p *Problems) Err() error {
	if len(p.errs) == 0 {
		return nil
	}
	return errors.Join(p.errs...)
}

// Keys lists the config keys named by the FieldErrors inside err, in order,
// looking through errors.Join trees and single-error wrappers (the Pulumi
// SDK wraps a program's error once more).
func Keys(err error) []string {
	var keys []string
	var walk func(error)
	walk = func(e error) {
		switch v := e.(type) { //nolint:errorlint // walks Unwrap trees itself
		case nil:
		case *FieldError:
			keys = append(keys, v.Key)
		case interface{ Unwrap() []error }:
			for _, inner := range v.Unwrap() {
				walk(inner)
			}
		case interface{ WrappedErrors() []error }:
			for _, inner := range v.WrappedErrors() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(v.Unwrap())
		}
	}
	walk(err)
	return keys
}

// OneOf records a problem unless value is one of allowed.
func (p *Problems) OneOf(key, value string, allowed ...string) bool {
	if slices.Contains(allowed, value) {
		return true
	}
	p.Addf(key, "must be one of %s, got %q", strings.Join(quoteAll(allowed), ", "), value)
	return false
}

// Between records a problem unless lo <= value <= hi.
func (p *Problems) Between(key string, value, lo, hi int, unit string) bool {
	if value >= lo && value <= hi {
		return true
	}
	p.Addf(key, "must be between %d and %d%s, got %d", lo, hi, unit, value)
	return false
}

// CIDR records a problem unless value is an IPv4 CIDR block such as 10.0.0.0/16.
func (p *Problems) CIDR(key, value string) (netip.Prefix, bool) {
	prefix, err := netip.ParsePrefix(value)
	if err != nil || !prefix.Addr().Is4() {
		p.Addf(key, "must be an IPv4 CIDR block such as 10.40.0.0/16, got %q", value)
		return netip.Prefix{}, false
	}
	if prefix.Masked() != prefix {
		p.Addf(key, "must be a network address (host bits zero): did you mean %s? got %q", prefix.Masked(), value)
		return netip.Prefix{}, false
	}
	return prefix, true
}

// URL records a problem unless value is an absolute http(s) URL with a host.
func (p *Problems) URL(key, value string) bool {
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.Addf(key, "must be an absolute http:// or https:// URL such as https://registry.example.com, got %q", value)
		return false
	}
	return true
}

func quoteAll(values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

// MergeMessages adds errors from packages that report problems as plain
// errors whose message names the key ("...: anka:etcd.replicas must be ...");
// the first "<namespace>:" token becomes the key so Keys still finds it.
func (p *Problems) MergeMessages(err error) {
	if err == nil {
		return
	}
	var list []error
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		list = joined.Unwrap()
	} else {
		list = []error{err}
	}
	for _, e := range list {
		var fe *FieldError
		if errors.As(e, &fe) {
			p.errs = append(p.errs, fe)
			continue
		}
		msg := e.Error()
		key := ""
		for _, word := range strings.Fields(msg) {
			if strings.HasPrefix(word, "anka:") || strings.HasPrefix(word, "aws:") {
				key = strings.TrimRight(word, ".,;")
				break
			}
		}
		if key == "" {
			p.errs = append(p.errs, e)
			continue
		}
		rest := msg[strings.Index(msg, key)+len(key):]
		p.errs = append(p.errs, &FieldError{Key: key, Msg: strings.TrimSpace(rest)})
	}
}
