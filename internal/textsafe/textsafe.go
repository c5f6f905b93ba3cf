// Package textsafe makes text that investiq-mon did not write itself (an
// archive's manifest, a server's error, an alert's annotation, a
// version string) safe to print on a terminal. Such text can carry
// escape sequences that move the cursor, clear the screen, retitle the
// window or hide what follows: an archive could rewrite what restore
// showed above its [y/N] question. Every control and format character is
// shown escaped instead, so the user sees that something odd is there.
package textsafe

import (
	"fmt"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Line escapes every control character (line breaks and tabs included),
// every Unicode format character (bidirectional overrides, zero-width
// characters), line and paragraph separators and every byte that is not
// UTF-8, as Go escapes them (\x1b, \n, \u202e, \xff). Printable text,
// including non-ASCII letters, is unchanged.
func Line(s string) string { return clean(s, false) }

// Text is Line but keeps line breaks and tabs: for multi-line text such
// as an error that lists several problems. A carriage return is still
// escaped, since it returns to the start of a line to overwrite it.
func Text(s string) string { return clean(s, true) }

func clean(s string, keepLines bool) string {
	if isSafe(s, keepLines) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case keepLines && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && unsafe(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafe(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func unsafe(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r)
}

func isSafe(s string, keepLines bool) bool {
	for _, r := range s {
		if r == utf8.RuneError || (unsafe(r) && !(keepLines && (r == '\n' || r == '\t'))) {
			return false
		}
	}
	return true
}

// Strings applies Line to each element of a copy of ss.
func Strings(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Line(s)
	}
	return out
}

// Deep applies Line to every string reachable from v, which must be a
// pointer: struct fields (exported ones), slice and array elements, map
// keys and values, through pointers and interfaces. It is for values
// built only to be printed (a status report, doctor's results); nothing
// else should read them afterwards.
func Deep(v any) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer {
		panic("textsafe.Deep needs a pointer")
	}
	deep(rv.Elem(), 0)
}

func deep(v reflect.Value, depth int) {
	if depth > 64 { // a cycle; values to print have none
		return
	}
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			if s := v.String(); !isSafe(s, false) {
				v.SetString(Line(s))
			}
		}
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return
		}
		if v.Kind() == reflect.Interface {
			// The value inside an interface cannot be set in place: copy,
			// clean and put back.
			inner := v.Elem()
			c := reflect.New(inner.Type()).Elem()
			c.Set(inner)
			deep(c, depth+1)
			if v.CanSet() {
				v.Set(c)
			}
			return
		}
		deep(v.Elem(), depth+1)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				deep(v.Field(i), depth+1)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			deep(v.Index(i), depth+1)
		}
	case reflect.Map:
		if v.IsNil() || !v.CanSet() {
			return
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			k := reflect.New(v.Type().Key()).Elem()
			k.Set(iter.Key())
			deep(k, depth+1)
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(iter.Value())
			deep(e, depth+1)
			out.SetMapIndex(k, e)
		}
		v.Set(out)
	}
}
