package validate

import (
	"reflect"
	"strings"

	yamlv2 "go.yaml.in/yaml/v2"
	"gopkg.in/yaml.v3"
)

// Prometheus' and Alertmanager's loaders validate inside UnmarshalYAML and
// return bare messages ("missing to address in email config"). To place
// such an error, decode each subtree of the file on its own into the
// upstream type the loader would use for it and descend into the ones
// that fail: the deepest failing node is where the problem is. This asks
// the upstream code itself, not a copy of its rules.

// locateByDecoding returns the deepest node under n that does not decode
// into typ, or nil if n decodes.
func locateByDecoding(n *yaml.Node, typ reflect.Type) *yaml.Node {
	if n == nil || !decodeFails(n, typ) {
		return nil
	}
	t := typ
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if ft, ok := fieldByTag(t, n.Content[i].Value); ok {
					if c := locateByDecoding(n.Content[i+1], ft); c != nil {
						return c
					}
				}
			}
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for _, item := range n.Content {
				if c := locateByDecoding(item, t.Elem()); c != nil {
					return c
				}
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if c := locateByDecoding(n.Content[i+1], t.Elem()); c != nil {
					return c
				}
			}
		}
	}
	return n
}

func decodeFails(n *yaml.Node, typ reflect.Type) (failed bool) {
	defer func() {
		// A subtree decoded out of its context can trip code that
		// assumes its parent ran first; that says nothing about the file.
		if recover() != nil {
			failed = false
		}
	}()
	b, err := yaml.Marshal(n)
	if err != nil {
		return false
	}
	return yamlv2.UnmarshalStrict(b, reflect.New(typ).Interface()) != nil
}

// fieldByTag finds the type of the struct field a YAML key decodes into,
// looking through inline fields as the decoder does.
func fieldByTag(t reflect.Type, key string) (reflect.Type, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") {
			it := f.Type
			for it.Kind() == reflect.Pointer {
				it = it.Elem()
			}
			if it.Kind() == reflect.Struct {
				if ft, ok := fieldByTag(it, key); ok {
					return ft, true
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if name == key {
			return f.Type, true
		}
	}
	return nil, false
}

// refineByMention points at the key of a mapping that the message names
// ("basic_auth", or "api version" for api_version), else at the mapping.
func refineByMention(n *yaml.Node, msg string) (int, int) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if strings.Contains(msg, k.Value) || strings.Contains(msg, strings.ReplaceAll(k.Value, "_", " ")) {
				return k.Line, k.Column
			}
		}
	}
	return n.Line, n.Column
}

// locateDecoded places a message by decoding: nothing if only the whole
// document fails (the problem is between sections, not in one).
func locateDecoded(root *yaml.Node, typ reflect.Type, msg string) (int, int) {
	n := locateByDecoding(root, typ)
	if n == nil || n == root {
		return 0, 0
	}
	return refineByMention(n, msg)
}
