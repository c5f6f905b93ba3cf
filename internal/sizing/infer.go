package sizing

import (
	"maps"
	"slices"
	"strconv"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/investiq/investiq-mon/spec"
)

// shape is how many series a PromQL expression returns, as the number of
// values each varying label takes (the series are every combination). A
// label absent from dims has one value or is absent. extra adds series
// whose labels differ from dims' (the right side of an `or` with other
// labels), scalar marks a number rather than a vector, and none a vector
// that is empty in steady state (absent() of something that exists).
type shape struct {
	dims   map[string]int
	fixed  map[string]string
	extra  int
	scalar bool
	none   bool
}

func (s shape) count() int {
	if s.scalar || s.none {
		return 0
	}
	n := 1
	for _, c := range s.dims {
		n *= c
	}
	return n + s.extra
}

func one() shape { return shape{dims: map[string]int{}, fixed: map[string]string{}} }

// inferrer knows the spec's metrics and the recording rules seen so far.
type inferrer struct {
	s       *spec.Spec
	metrics map[string]shape    // every series name a scrape creates
	values  map[string][]string // known values of a series' labels, for regex matchers
	records map[string][]shape  // recording rule outputs, one per rule
}

func newInferrer(s *spec.Spec) *inferrer {
	in := &inferrer{s: s, metrics: map[string]shape{}, values: map[string][]string{}, records: map[string][]shape{}}
	targets := map[string]int{}
	for _, j := range s.Jobs {
		targets[j.Name] = len(j.Targets)
	}
	for _, m := range s.Metrics {
		base := one()
		for _, l := range m.Labels {
			base.dims[l.Name] = l.Cardinality()
			if len(l.Values) > 0 {
				in.values[m.Name+"/"+l.Name] = l.Values
			}
		}
		base.dims["instance"] = max(1, targets[m.Job])
		base.fixed["job"] = m.Job
		for _, name := range m.Series() {
			sh := clone(base)
			if name == m.Name+"_bucket" {
				sh.dims["le"] = len(m.Buckets) + 1
				var les []string
				for _, b := range m.Buckets {
					les = append(les, strconv.FormatFloat(b, 'g', -1, 64))
				}
				in.values[name+"/le"] = append(les, "+Inf")
			}
			for _, l := range m.Labels {
				if vs, ok := in.values[m.Name+"/"+l.Name]; ok {
					in.values[name+"/"+l.Name] = vs
				}
			}
			in.metrics[name] = sh
		}
	}
	// The synthetic series of every scrape, one per target.
	for _, name := range []string{"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"} {
		sh := one()
		n := 0
		var jobs []string
		for _, j := range s.Jobs {
			n += len(j.Targets)
			jobs = append(jobs, j.Name)
		}
		sh.extra = n - 1
		in.metrics[name] = sh
		in.values[name+"/job"] = jobs
	}
	return in
}

func clone(s shape) shape {
	return shape{dims: maps.Clone(s.dims), fixed: maps.Clone(s.fixed), extra: s.extra, scalar: s.scalar, none: s.none}
}

// record remembers a recording rule's output under its name, with the
// rule's labels fixed on it.
func (in *inferrer) record(name string, out shape, ruleLabels map[string]string) {
	out = clone(out)
	for k, v := range ruleLabels {
		delete(out.dims, k)
		out.fixed[k] = v
	}
	in.records[name] = append(in.records[name], out)
}

// infer is the shape of expr's result.
func (in *inferrer) infer(expr parser.Expr) shape {
	switch e := expr.(type) {
	case *parser.NumberLiteral, *parser.StringLiteral:
		return shape{scalar: true}
	case *parser.ParenExpr:
		return in.infer(e.Expr)
	case *parser.UnaryExpr:
		return in.infer(e.Expr)
	case *parser.StepInvariantExpr:
		return in.infer(e.Expr)
	case *parser.SubqueryExpr:
		return in.infer(e.Expr)
	case *parser.MatrixSelector:
		return in.infer(e.VectorSelector)
	case *parser.VectorSelector:
		return in.selector(e)
	case *parser.Call:
		return in.call(e)
	case *parser.AggregateExpr:
		return in.aggregate(e)
	case *parser.BinaryExpr:
		return in.binary(e)
	}
	return one()
}

func (in *inferrer) selector(vs *parser.VectorSelector) shape {
	name := vs.Name
	for _, m := range vs.LabelMatchers {
		if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
			name = m.Value
		}
	}
	if outs, ok := in.records[name]; ok {
		total := shape{dims: map[string]int{}, fixed: map[string]string{}}
		first := true
		for _, o := range outs {
			if !matchesFixed(o.fixed, vs.LabelMatchers) {
				continue
			}
			o = in.narrow(name, o, vs.LabelMatchers)
			if first {
				total, first = o, false
			} else {
				total.extra += o.count()
			}
		}
		if first {
			return shape{none: true} // no rule records these labels
		}
		return total
	}
	sh, ok := in.metrics[name]
	if !ok {
		// Not declared (ALERTS, a self-monitoring metric): one series is
		// as good a guess as any, and the spec checks refuse most such
		// selectors anyway.
		return one()
	}
	if name == "up" || len(sh.dims) == 0 && sh.extra > 0 {
		// A job matcher narrows the synthetic series to that job's targets.
		for _, m := range vs.LabelMatchers {
			if m.Name == "job" && m.Type == labels.MatchEqual {
				if j, ok := in.s.Job(m.Value); ok {
					out := one()
					out.dims["instance"] = max(1, len(j.Targets))
					out.fixed["job"] = j.Name
					return out
				}
			}
		}
	}
	return in.narrow(name, clone(sh), vs.LabelMatchers)
}

// matchesFixed says whether a recorded output with fixed labels can match
// the selector's equality matchers.
func matchesFixed(fixed map[string]string, ms []*labels.Matcher) bool {
	for _, m := range ms {
		if v, ok := fixed[m.Name]; ok && !m.Matches(v) {
			return false
		}
	}
	return true
}

// narrow applies a selector's matchers: an equality keeps one value of a
// label, a regex the known values it matches.
func (in *inferrer) narrow(name string, sh shape, ms []*labels.Matcher) shape {
	for _, m := range ms {
		c, varying := sh.dims[m.Name]
		if !varying || m.Name == model.MetricNameLabel {
			continue
		}
		switch m.Type {
		case labels.MatchEqual:
			sh.dims[m.Name] = 1
		case labels.MatchNotEqual:
			sh.dims[m.Name] = max(1, c-1)
		default:
			if vs, ok := in.values[name+"/"+m.Name]; ok {
				n := 0
				for _, v := range vs {
					if m.Matches(v) {
						n++
					}
				}
				sh.dims[m.Name] = n
			}
		}
	}
	return sh
}

func (in *inferrer) call(c *parser.Call) shape {
	switch c.Func.Name {
	case "vector", "time", "pi":
		if c.Func.Name == "vector" {
			return one()
		}
		return shape{scalar: true}
	case "scalar":
		return shape{scalar: true}
	case "absent", "absent_over_time":
		// Returns a series only while what it looks for is missing: none
		// in steady state.
		return shape{none: true}
	case "histogram_quantile", "histogram_fraction":
		sh := clone(in.infer(c.Args[len(c.Args)-1]))
		delete(sh.dims, "le")
		return sh
	}
	// rate, increase, *_over_time, label_replace, clamp...: one output per
	// input series. The argument that is a vector decides.
	for _, a := range c.Args {
		if sh := in.infer(a); !sh.scalar {
			return clone(sh)
		}
	}
	return one()
}

func (in *inferrer) aggregate(a *parser.AggregateExpr) shape {
	inner := in.infer(a.Expr)
	if inner.none {
		return inner
	}
	out := one()
	if a.Op == parser.COUNT_VALUES || a.Op == parser.TOPK || a.Op == parser.BOTTOMK || a.Op == parser.LIMITK || a.Op == parser.LIMIT_RATIO {
		// Keeps (some of) the input series: at most as many.
		return clone(inner)
	}
	if a.Without {
		out = clone(inner)
		for _, l := range a.Grouping {
			delete(out.dims, l)
			delete(out.fixed, l)
		}
		out.extra = 0
		return out
	}
	for _, l := range a.Grouping {
		if c, ok := inner.dims[l]; ok {
			out.dims[l] = c
		}
		if v, ok := inner.fixed[l]; ok {
			out.fixed[l] = v
		}
	}
	return out
}

func (in *inferrer) binary(b *parser.BinaryExpr) shape {
	l, r := in.infer(b.LHS), in.infer(b.RHS)
	switch {
	case l.scalar && r.scalar:
		return shape{scalar: true}
	case r.scalar:
		return l
	case l.scalar:
		return r
	case b.Op == parser.LOR && l.none:
		return r
	case b.Op == parser.LOR && r.none:
		return l
	case l.none:
		return l
	case r.none && b.Op != parser.LUNLESS:
		return r
	}
	switch b.Op {
	case parser.LAND, parser.LUNLESS:
		return l
	case parser.LOR:
		if slices.Equal(sortedKeys(l.dims), sortedKeys(r.dims)) && maps.Equal(l.fixed, r.fixed) {
			out := clone(l)
			for k, c := range r.dims {
				out.dims[k] = max(out.dims[k], c)
			}
			out.extra = max(l.extra, r.extra)
			return out
		}
		out := clone(l)
		out.extra += r.count()
		return out
	}
	if b.VectorMatching != nil {
		switch b.VectorMatching.Card {
		case parser.CardManyToOne:
			return l
		case parser.CardOneToMany:
			return r
		}
	}
	// One-to-one: at most the smaller side matches.
	if r.count() < l.count() {
		return r
	}
	return l
}

func sortedKeys(m map[string]int) []string {
	ks := slices.Collect(maps.Keys(m))
	slices.Sort(ks)
	return ks
}
