// Package configobj decodes one structured config value (an anka:<object>
// key of a stack file) into a component's Args: strictly, so that a
// misspelled or retired key is an error naming it, not a setting silently
// ignored. Every config object of the program is decoded here, the same way.
package configobj

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
)

// moved says where a key that is not (or no longer) part of an object is
// set instead, by "<object key>.<field>".
var moved = map[string]string{
	"anka:buildcloud.namespace": "every component's namespace is anka:namespace",
}

// Decode decodes raw, the value of config key (e.g. "anka:edge"), into out.
// The error is a validation problem naming the key, and the unknown field
// when there is one.
func Decode(key string, raw []byte, out any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(out)
	if err == nil {
		return nil
	}
	var p validation.Problems
	if field, ok := unknownField(err); ok {
		hint := "check its spelling against README.md's config table"
		if m, ok := moved[key+"."+field]; ok {
			hint = m
		}
		p.Addf(key, "has no setting %q: %s", field, hint)
		return p.Err()
	}
	p.Addf(key, "is not a well-formed object (check the spelling of its keys against README.md): %v", err)
	return p.Err()
}

// unknownField is the field name of encoding/json's DisallowUnknownFields
// error (`json: unknown field "x"`).
func unknownField(err error) (string, bool) {
	rest, ok := strings.CutPrefix(err.Error(), "json: unknown field ")
	if !ok {
		return "", false
	}
	var name string
	if _, scanErr := fmt.Sscanf(rest, "%q", &name); scanErr != nil {
		return "", false
	}
	return name, true
}
