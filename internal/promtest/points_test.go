package promtest_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/investiq/investiq-mon/internal/promtest"
)

func TestSeriesPointsCountsWithoutExpanding(t *testing.T) {
	for _, c := range []struct {
		values string
		want   int64
	}{
		{"1 2 3", 3},
		{"0+10x100", 101},
		{"1x4 _x3 stale", 5 + 4 + 1},
		{"0+1x1000000000", 1000000001},
		{"0x10", 1}, // hexadecimal, not a repeat
		{"{{schema:0 sum:5 count:4 buckets:[1 2 1]}}+{{schema:0 sum:2 count:1 buckets:[1]}}x4", 5},
		{"1 99999999999999999999999x99999999999999999999", math.MaxInt64},
		{"", 0},
	} {
		if got := promtest.SeriesPoints(c.values); got != c.want {
			t.Errorf("SeriesPoints(%q) = %d, want %d", c.values, got, c.want)
		}
	}
}

// A series past the limit is refused with its line, before anything
// expands it; one at the limit is not.
func TestCheckPointsNamesTheLine(t *testing.T) {
	at := strings.Repeat("1 ", 3) + "0+1x" + itoa(promtest.MaxSeriesPoints-4)
	data := []byte(`rule_files: [r.yml]
tests:
  - interval: 1m
    input_series:
      - series: 'ok{a="1"}'
        values: '` + at + `'
      - series: 'bomb{a="1"}'
        values: '0+1x1000000000'
    promql_expr_test:
      - expr: bomb
        eval_time: 1m
        exp_samples:
          - labels: 'bomb{a="1"}'
            histogram: '{{count:1}}x2'
`)
	f, err := promtest.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if n := promtest.SeriesPoints(at); n != promtest.MaxSeriesPoints {
		t.Fatalf("the series at the limit counts %d", n)
	}
	errs := promtest.CheckPoints(data, f)
	if len(errs) != 2 {
		t.Fatalf("got %v, want the bomb series and the histogram", errs)
	}
	if errs[0].Line != 8 || !strings.Contains(errs[0].Msg, `bomb{a="1"}`) || !strings.Contains(errs[0].Msg, "1000000001") || !errors.Is(errs[0], promtest.ErrTooManyPoints) {
		t.Errorf("first error %v, want line 8 naming the series and its size", errs[0])
	}
	if errs[1].Line != 14 {
		t.Errorf("histogram error %v, want line 14", errs[1])
	}
}

func itoa(n int) string {
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
