package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// jsonIndex maps JSON pointers (/panels/3/targets/0/expr) to the byte
// offset of the member's key (objects) or of the item (arrays), so that a
// finding about a dashboard field points at the line that holds it.
type jsonIndex struct {
	data []byte
	at   map[string]int
}

func indexJSON(data []byte) *jsonIndex {
	ix := &jsonIndex{data: data, at: map[string]int{}}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	ix.value(dec, "")
	return ix
}

// next skips whitespace, commas and colons from off: where the next token
// starts.
func (ix *jsonIndex) next(off int) int {
	for off < len(ix.data) {
		switch ix.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

func (ix *jsonIndex) value(dec *json.Decoder, ptr string) bool {
	start := ix.next(int(dec.InputOffset()))
	if _, ok := ix.at[ptr]; !ok {
		ix.at[ptr] = start
	}
	tok, err := dec.Token()
	if err != nil {
		return false
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return true
	}
	// A syntax error inside an object or array leaves the decoder where
	// it was, and More still says true: stop at the first error, or the
	// loop never ends ([1 2] hung validate; found by FuzzDashboard).
	switch d {
	case '{':
		for dec.More() {
			keyOff := ix.next(int(dec.InputOffset()))
			kt, err := dec.Token()
			if err != nil {
				return false
			}
			k, _ := kt.(string)
			p := ptr + "/" + strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
			ix.at[p] = keyOff
			if !ix.value(dec, p) {
				return false
			}
		}
	case '[':
		for i := 0; dec.More(); i++ {
			if !ix.value(dec, ptr+"/"+strconv.Itoa(i)) {
				return false
			}
		}
	}
	_, err = dec.Token() // the closing brace or bracket
	return err == nil
}

// pos returns the line and column of a pointer, or of its nearest indexed
// ancestor.
func (ix *jsonIndex) pos(ptr string) (int, int) {
	for {
		if off, ok := ix.at[ptr]; ok {
			return lineCol(ix.data, off)
		}
		i := strings.LastIndexByte(ptr, '/')
		if i < 0 {
			return 1, 1
		}
		ptr = ptr[:i]
	}
}

// key finds the first member named name, in document order.
func (ix *jsonIndex) key(name string) (int, int, bool) {
	best := -1
	for ptr, off := range ix.at {
		if strings.HasSuffix(ptr, "/"+name) && (best < 0 || off < best) {
			best = off
		}
	}
	if best < 0 {
		return 0, 0, false
	}
	line, col := lineCol(ix.data, best)
	return line, col, true
}

func lineCol(data []byte, off int) (int, int) {
	if off > len(data) {
		off = len(data)
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}

// jsonErrorPos locates an encoding/json syntax or type error.
func jsonErrorPos(data []byte, err error) (int, int) {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return lineCol(data, int(se.Offset))
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return lineCol(data, int(te.Offset))
	}
	return 1, 1
}

var buildPathRE = regexp.MustCompile(`\[(\d+)\]`)

// sdkPathToPointer turns the foundation SDK's error path
// ("panels[2].gridPos.x") into a JSON pointer.
func sdkPathToPointer(p string) string {
	p = buildPathRE.ReplaceAllString(p, ".$1")
	if p == "" {
		return ""
	}
	return "/" + strings.ReplaceAll(p, ".", "/")
}
