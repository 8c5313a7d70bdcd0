package config

import (
	"reflect"
	"slices"

	"github.com/shipdeploy/ship/redact"
)

// SecretValues lists every secret value the config holds, for ship to
// redact wherever it prints or writes: each Secret anywhere in it (env
// secrets of the app, its roles and tags, and of accessories; registry
// passwords; proxy certificates and keys; SSH key data; Litestream
// credentials), and a registry username named as a secret, which the
// config keeps as a plain string for logging in. The walk finds a Secret
// field added later without being told.
func (c *Config) SecretValues() []string {
	var out []string
	collectSecrets(reflect.ValueOf(c), &out)
	slices.Sort(out)
	return slices.Compact(out)
}

var (
	secretType   = reflect.TypeFor[Secret]()
	registryType = reflect.TypeFor[Registry]()
)

// collectSecrets appends the value of every Secret reachable from v
// through exported fields, pointers, slices and maps.
func collectSecrets(v reflect.Value, out *[]string) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			collectSecrets(v.Elem(), out)
		}
	case reflect.Struct:
		if v.Type() == secretType {
			if s := v.Interface().(Secret).Reveal(); s != "" {
				*out = append(*out, s)
			}
			return
		}
		if v.Type() == registryType {
			if r := v.Interface().(Registry); r.usernameSecret && r.Username != "" {
				*out = append(*out, r.Username)
			}
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				collectSecrets(v.Field(i), out)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			collectSecrets(v.Index(i), out)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			collectSecrets(it.Value(), out)
		}
	}
}

// redactProblems hides the secrets files' values in the problems of a
// config that failed to load: a $(command)'s error carries its stderr,
// which may print a secret read before it, and no Redactor knows the
// secrets of a config that never loaded.
func redactProblems(problems Problems, secrets Secrets) Problems {
	values := make([]string, 0, len(secrets))
	for _, v := range secrets {
		values = append(values, v)
	}
	r := redact.New(values...)
	out := slices.Clone(problems)
	for i := range out {
		out[i].Message = r.String(out[i].Message)
	}
	return out
}
