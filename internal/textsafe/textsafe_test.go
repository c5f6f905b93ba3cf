package textsafe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLine(t *testing.T) {
	tests := []struct{ name, in, line, text string }{
		{"plain text is unchanged", "prometheus 3.16.0 up", "prometheus 3.16.0 up", "prometheus 3.16.0 up"},
		{"non-ASCII letters are unchanged", "größe ✓ 東京", "größe ✓ 東京", "größe ✓ 東京"},
		{"a screen clear and cursor home are escaped", "\x1b[2J\x1b[Hrestore complete", `\x1b[2J\x1b[Hrestore complete`, `\x1b[2J\x1b[Hrestore complete`},
		{"an OSC window title with BEL is escaped", "\x1b]0;pwned\x07", `\x1b]0;pwned\x07`, `\x1b]0;pwned\x07`},
		{"a carriage return that would overwrite the line is escaped", "ok\rFAIL", `ok\rFAIL`, `ok\rFAIL`},
		{"line breaks: escaped in a line, kept in text", "a\nb\tc", `a\nb\tc`, "a\nb\tc"},
		{"C1 controls (8-bit CSI) are escaped", "x\u009b2Jy", `x\u009b2Jy`, `x\u009b2Jy`},
		{"bidi overrides that reorder what is shown are escaped", "safe\u202eexe.txt", `safe\u202eexe.txt`, `safe\u202eexe.txt`},
		{"zero-width and line separators are escaped", "a\u200bb\u2028c", `a\u200bb\u2028c`, `a\u200bb\u2028c`},
		{"bytes that are not UTF-8 are escaped", "a\xffb", `a\xffb`, `a\xffb`},
		{"DEL and NUL are escaped", "a\x7fb\x00", `a\x7fb\x00`, `a\x7fb\x00`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Line(tt.in); got != tt.line {
				t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.line)
			}
			if got := Text(tt.in); got != tt.text {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.text)
			}
		})
	}
}

type report struct {
	Name    string
	Notes   []string
	Labels  map[string]string
	Inner   *report
	Any     any
	private string
	Count   int
}

func TestDeep(t *testing.T) {
	esc := "\x1b[31m"
	r := report{
		Name: "n" + esc, Notes: []string{esc, "ok"}, Labels: map[string]string{"k" + esc: "v" + esc},
		Inner: &report{Name: esc}, Any: "any" + esc, private: esc, Count: 3,
	}
	Deep(&r)
	all := r.Name + strings.Join(r.Notes, "") + r.Inner.Name + r.Any.(string)
	for k, v := range r.Labels {
		all += k + v
	}
	if strings.Contains(all, "\x1b") {
		t.Errorf("an escape survived: %q", all)
	}
	if r.Labels[`k\x1b[31m`] != `v\x1b[31m` || r.Notes[1] != "ok" || r.Count != 3 {
		t.Errorf("values changed beyond escaping: %+v", r)
	}
	if r.private != esc {
		t.Error("an unexported field was touched")
	}
}

func FuzzLine(f *testing.F) {
	f.Add("\x1b[2J")
	f.Add("plain")
	f.Add("a\u202eb\xff")
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{Line(s), Text(s)} {
			if !utf8.ValidString(out) {
				t.Fatalf("%q gave invalid UTF-8 %q", s, out)
			}
			for _, r := range out {
				if r != '\n' && r != '\t' && unsafe(r) {
					t.Fatalf("%q left %U in %q", s, r, out)
				}
			}
		}
		if strings.ContainsAny(Line(s), "\n\t") {
			t.Fatalf("Line(%q) kept a line break or tab", s)
		}
	})
}
