// Package simulate stands in for the InvestIQ API's /metrics (and the ML
// signal-models service's) so that a newcomer can try the monitoring stack
// without the real API, and so that the end-to-end tests can drive every
// alert on real Prometheus and Alertmanager servers.
//
// Every metric family is registered from the spec (name, type, help,
// labels, buckets), so the simulator serves exactly what the spec declares
// and check-metrics holds it to the same contract as the real API. What the
// numbers do is decided by the current scenario (healthy, errors, slow,
// ml-down, halted, dependency-down:<name>), which can be switched while it
// runs.
package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/investiq/investiq-mon/spec"
)

// Scenario names. dependency-down takes the dependency after a colon, one
// of the values of the dependency-health metric's name label, e.g.
// dependency-down:redis.
const (
	Healthy            = "healthy"
	Errors             = "errors"
	Slow               = "slow"
	MLDown             = "ml-down"
	Halted             = "halted"
	DependencyDownPref = "dependency-down:"
)

// DependencyDown names the scenario in which the dependency dep (e.g.
// "redis") reports down.
func DependencyDown(dep string) string { return DependencyDownPref + dep }

// ErrUnknownScenario is returned by SetScenario (and New) for a name that
// is not one of Scenarios().
var ErrUnknownScenario = errors.New("unknown scenario")

// The metrics the simulator gives a meaning to. They are names only: type,
// help, labels and buckets come from the spec. A metric the spec adds later
// is still served, with a generic behaviour (counters grow slowly, gauges
// sit at their healthy state), and TestRolesAreDeclaredBySpec fails when
// one of these is renamed in the spec, so no alert silently stops firing.
const (
	requestsMetric    = "investiq_requests_total"
	durationMetric    = "investiq_request_duration_milliseconds"
	errorsMetric      = "investiq_errors_total"
	connectionsMetric = "investiq_active_connections"
	tradesMetric      = "investiq_trades_total"
	analysesMetric    = "investiq_analyses_total"
	dependencyMetric  = "investiq_dependency_health"
	haltedMetric      = "investiq_trading_halted"

	// mlDependency is the dependency-health value that ml-down takes down
	// together with the ML service's own /metrics.
	mlDependency = "ml_service"
)

// sampleValues are the label values emitted for labels whose spec does not
// close the set (route templates, error classes): realistic, and few, so
// the series count stays what a real API has.
var sampleValues = map[string][]string{
	"endpoint": {"/api/analyze/:symbol", "/api/market/:symbol", "/api/portfolio", "/api/trades"},
	"type":     {"database", "upstream", "validation"},
}

// profile is what a scenario does to the rates, per second of simulated
// time.
type profile struct {
	requests, errors, trades, analyses float64
	// slowShare is the share of requests that take 1.2-4 s; the rest take
	// 10-450 ms (healthy p95 ~200 ms, well under the 500 ms latency SLO).
	slowShare float64
}

// The healthy error rate (0.01/s) is a tenth of HighErrorRate's threshold
// and a burn rate of 0.5 on the 99.9 % availability SLO, so a healthy run
// never pages; errors (2/s) is twenty times the threshold.
var (
	healthyProfile = profile{requests: 20, errors: 0.01, trades: 0.2, analyses: 1}
	errorsProfile  = profile{requests: 20, errors: 2, trades: 0.2, analyses: 1}
	slowProfile    = profile{requests: 20, errors: 0.01, trades: 0.2, analyses: 1, slowShare: 0.85}
	haltedProfile  = profile{requests: 20, errors: 0.01, trades: 0, analyses: 1}
)

// Options tune a Simulator; the zero value is a healthy simulator ticking
// once a second.
type Options struct {
	// Scenario to start in; empty means healthy.
	Scenario string
	// Tick is how often Run (and Start) advance the counters; rates are per
	// second of wall time whatever the tick, so tests shorten it to see
	// smooth rates over short windows. Zero means 1s.
	Tick time.Duration
	// Seed makes a run reproducible; zero picks a fixed default seed.
	Seed uint64
	// Logger receives scenario switches; nil discards them.
	Logger *slog.Logger
}

// Simulator holds the simulated API's metrics. It is safe for concurrent
// use: scrapes, scenario switches and ticks may happen at once.
type Simulator struct {
	spec *spec.Spec
	tick time.Duration
	log  *slog.Logger

	api *prometheus.Registry // what the API's /metrics serves
	ml  *prometheus.Registry // what the ML service's /metrics serves

	fams   []*family
	byName map[string]*family
	deps   []string // values of the dependency metric's name label

	mu       sync.Mutex
	scenario string
	rng      *rand.Rand
	acc      map[string]float64 // fractional events carried between steps
}

// family is one registered metric family with every label combination the
// simulator emits for it.
type family struct {
	m       spec.Metric
	counter *prometheus.CounterVec
	gauge   *prometheus.GaugeVec
	hist    *prometheus.HistogramVec
	series  [][]string
}

// New registers every metric of the spec on the simulator's own registries
// (the API's, and the ML service's for metrics of the ML job) and sets the
// starting scenario.
func New(s *spec.Spec, opts Options) (*Simulator, error) {
	if s == nil {
		return nil, errors.New("simulate: nil spec")
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	seed := opts.Seed
	if seed == 0 {
		seed = 20261130
	}
	sim := &Simulator{
		spec:   s,
		tick:   opts.Tick,
		log:    opts.Logger,
		api:    prometheus.NewRegistry(),
		ml:     prometheus.NewRegistry(),
		byName: map[string]*family{},
		rng:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		acc:    map[string]float64{},
	}
	for _, m := range s.Metrics {
		f, err := newFamily(m)
		if err != nil {
			return nil, err
		}
		reg := sim.api
		if m.Job == spec.JobML {
			reg = sim.ml
		}
		if err := reg.Register(f.collector()); err != nil {
			return nil, fmt.Errorf("simulate: metric %s: %w", m.Name, err)
		}
		sim.fams = append(sim.fams, f)
		sim.byName[m.Name] = f
	}
	if err := sim.checkRoles(); err != nil {
		return nil, err
	}
	if m, ok := s.Metric(dependencyMetric); ok {
		if l, ok := m.Label("name"); ok {
			sim.deps = l.Values
		}
	}
	name := opts.Scenario
	if name == "" {
		name = Healthy
	}
	if err := sim.validScenario(name); err != nil {
		return nil, err
	}
	sim.scenario = name
	sim.applyGauges()
	return sim, nil
}

// checkRoles refuses a spec in which a metric the simulator drives has
// changed type: its behaviour would make no sense any more.
func (sim *Simulator) checkRoles() error {
	want := map[string]spec.MetricType{
		requestsMetric: spec.Counter, errorsMetric: spec.Counter, tradesMetric: spec.Counter,
		analysesMetric: spec.Counter, durationMetric: spec.Histogram, connectionsMetric: spec.Gauge,
		dependencyMetric: spec.Gauge, haltedMetric: spec.Gauge,
	}
	for name, typ := range want {
		if f, ok := sim.byName[name]; ok && f.m.Type != typ {
			return fmt.Errorf("simulate: spec declares %s as a %s, but the simulator drives it as a %s: update internal/simulate", name, f.m.Type, typ)
		}
	}
	return nil
}

func newFamily(m spec.Metric) (*family, error) {
	names := make([]string, len(m.Labels))
	values := make([][]string, len(m.Labels))
	for i, l := range m.Labels {
		names[i] = l.Name
		values[i] = labelValues(l)
	}
	f := &family{m: m, series: product(values)}
	switch m.Type {
	case spec.Counter:
		f.counter = prometheus.NewCounterVec(prometheus.CounterOpts{Name: m.Name, Help: m.Help}, names)
		for _, lv := range f.series {
			f.counter.WithLabelValues(lv...) // exposed at 0 from the start, as a real API should
		}
	case spec.Gauge:
		f.gauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: m.Name, Help: m.Help}, names)
		for _, lv := range f.series {
			f.gauge.WithLabelValues(lv...)
		}
	case spec.Histogram:
		f.hist = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: m.Name, Help: m.Help, Buckets: m.Buckets}, names)
		for _, lv := range f.series {
			f.hist.WithLabelValues(lv...)
		}
	default:
		return nil, fmt.Errorf("simulate: metric %s: type %q is not simulated", m.Name, m.Type)
	}
	return f, nil
}

func (f *family) collector() prometheus.Collector {
	switch {
	case f.counter != nil:
		return f.counter
	case f.gauge != nil:
		return f.gauge
	default:
		return f.hist
	}
}

// labelValues are the values emitted for a label: its closed set, else the
// sample values padded or cut to its MaxValues, so the simulator serves as
// many series as the spec plans for (what sizing estimates). The padding
// values get no traffic, like a route nobody calls.
func labelValues(l spec.Label) []string {
	if len(l.Values) > 0 {
		return l.Values
	}
	vs, ok := sampleValues[l.Name]
	if !ok {
		vs = []string{"simulated"}
	}
	if l.MaxValues <= 0 {
		return vs
	}
	out := slices.Clone(vs[:min(len(vs), l.MaxValues)])
	for i := len(out); i < l.MaxValues; i++ {
		out = append(out, fmt.Sprintf("%s-%d", l.Name, i+1))
	}
	return out
}

// product is every combination of one value per label, in order; one
// empty combination for a metric without labels.
func product(values [][]string) [][]string {
	out := [][]string{{}}
	for _, vs := range values {
		var next [][]string
		for _, prefix := range out {
			for _, v := range vs {
				next = append(next, append(slices.Clone(prefix), v))
			}
		}
		out = next
	}
	return out
}

// Scenarios lists every scenario name SetScenario accepts, one
// dependency-down per dependency the spec declares.
func (sim *Simulator) Scenarios() []string {
	out := []string{Healthy, Errors, Slow, MLDown, Halted}
	for _, d := range sim.deps {
		out = append(out, DependencyDownPref+d)
	}
	return out
}

func (sim *Simulator) validScenario(name string) error {
	if slices.Contains(sim.Scenarios(), name) {
		return nil
	}
	return fmt.Errorf("%w %q: choose one of %s", ErrUnknownScenario, name, strings.Join(sim.Scenarios(), ", "))
}

// Scenario returns the current scenario's name.
func (sim *Simulator) Scenario() string {
	sim.mu.Lock()
	defer sim.mu.Unlock()
	return sim.scenario
}

// SetScenario switches to the named scenario. Gauges (dependency health,
// trading halted, the ML service's availability) change at once; rates
// change from the next tick.
func (sim *Simulator) SetScenario(name string) error {
	if err := sim.validScenario(name); err != nil {
		return err
	}
	sim.mu.Lock()
	old := sim.scenario
	sim.scenario = name
	sim.mu.Unlock()
	sim.applyGauges()
	if old != name {
		sim.log.Info("scenario switched", "from", old, "to", name)
	}
	return nil
}

// mlDown reports whether the ML service's /metrics should fail.
func (sim *Simulator) mlDown() bool { return sim.Scenario() == MLDown }

func (sim *Simulator) profile(scenario string) profile {
	switch scenario {
	case Errors:
		return errorsProfile
	case Slow:
		return slowProfile
	case Halted:
		return haltedProfile
	default:
		return healthyProfile
	}
}

// applyGauges sets every gauge to what the current scenario says.
func (sim *Simulator) applyGauges() {
	sim.mu.Lock()
	defer sim.mu.Unlock()
	down := ""
	switch {
	case sim.scenario == MLDown:
		down = mlDependency
	case strings.HasPrefix(sim.scenario, DependencyDownPref):
		down = strings.TrimPrefix(sim.scenario, DependencyDownPref)
	}
	for _, f := range sim.fams {
		if f.gauge == nil {
			continue
		}
		switch f.m.Name {
		case dependencyMetric:
			li := labelIndex(f.m, "name")
			for _, lv := range f.series {
				v := 1.0
				if li >= 0 && lv[li] == down {
					v = 0
				}
				f.gauge.WithLabelValues(lv...).Set(v)
			}
		case haltedMetric:
			v := 0.0
			if sim.scenario == Halted {
				v = 1
			}
			for _, lv := range f.series {
				f.gauge.WithLabelValues(lv...).Set(v)
			}
		case connectionsMetric:
			// Moved by step; it starts at its typical level.
			for _, lv := range f.series {
				f.gauge.WithLabelValues(lv...).Set(40)
			}
		default:
			v := healthyState(f.m)
			for _, lv := range f.series {
				f.gauge.WithLabelValues(lv...).Set(v)
			}
		}
	}
}

func labelIndex(m spec.Metric, name string) int {
	for i, l := range m.Labels {
		if l.Name == name {
			return i
		}
	}
	return -1
}

// healthyState is the value of a gauge the simulator has no meaning for:
// its healthy state when the spec names one, else 1.
func healthyState(m spec.Metric) float64 {
	for _, st := range m.States {
		if st.Healthy {
			return st.Value
		}
	}
	return 1
}

// Step advances the simulation by d as if that much time had passed: every
// counter grows by the current scenario's rate times d and the histogram
// observes that many requests. Run calls it on every tick; tests call it
// directly to move the numbers deterministically without waiting.
func (sim *Simulator) Step(d time.Duration) {
	if d <= 0 {
		return
	}
	sim.mu.Lock()
	defer sim.mu.Unlock()
	dt := d.Seconds()
	p := sim.profile(sim.scenario)

	reqs := sim.events(requestsMetric, p.requests*dt)
	if f := sim.byName[requestsMetric]; f != nil || sim.byName[durationMetric] != nil {
		hist := sim.byName[durationMetric]
		for range reqs {
			ep := sim.pick(sampleValues["endpoint"])
			if f != nil {
				f.counter.With(sim.labelsFor(f, "endpoint", ep)).Inc()
			}
			if hist != nil {
				hist.hist.With(sim.labelsFor(hist, "endpoint", ep)).Observe(sim.latency(p))
			}
		}
	}
	if f := sim.byName[errorsMetric]; f != nil {
		for range sim.events(errorsMetric, p.errors*dt) {
			f.counter.With(sim.labelsFor(f, "type", sim.pick(sampleValues["type"]))).Inc()
		}
	}
	for name, rate := range map[string]float64{tradesMetric: p.trades, analysesMetric: p.analyses} {
		if f := sim.byName[name]; f != nil {
			n := sim.events(name, rate*dt)
			for _, lv := range f.series {
				f.counter.WithLabelValues(lv...).Add(float64(n))
			}
		}
	}
	if f := sim.byName[connectionsMetric]; f != nil {
		for _, lv := range f.series {
			f.gauge.WithLabelValues(lv...).Set(float64(30 + sim.rng.IntN(21)))
		}
	}
	// Metrics the simulator has no meaning for still move, so that a
	// dashboard panel on a newly declared metric shows something.
	for _, f := range sim.fams {
		if roles[f.m.Name] {
			continue
		}
		switch {
		case f.counter != nil:
			n := sim.events(f.m.Name, dt)
			for _, lv := range f.series {
				f.counter.WithLabelValues(lv...).Add(float64(n))
			}
		case f.hist != nil:
			for range sim.events(f.m.Name, dt) {
				for _, lv := range f.series {
					f.hist.WithLabelValues(lv...).Observe(midBucket(f.m.Buckets))
				}
			}
		}
	}
}

var roles = map[string]bool{
	requestsMetric: true, durationMetric: true, errorsMetric: true, connectionsMetric: true,
	tradesMetric: true, analysesMetric: true, dependencyMetric: true, haltedMetric: true,
}

func midBucket(b []float64) float64 {
	if len(b) == 0 {
		return 1
	}
	return b[len(b)/2]
}

// events turns a fractional expected count into whole events, carrying
// the remainder to the next step so that 0.01 errors/s really is one
// error every 100 s rather than none at all.
func (sim *Simulator) events(key string, expected float64) int {
	sim.acc[key] += expected
	n := int(sim.acc[key])
	sim.acc[key] -= float64(n)
	return n
}

func (sim *Simulator) pick(vs []string) string { return vs[sim.rng.IntN(len(vs))] }

// labelsFor gives the label set of a series of f with label name=value and
// every other label at its first emitted value; a metric whose spec lacks
// that label just gets its first series.
func (sim *Simulator) labelsFor(f *family, name, value string) prometheus.Labels {
	ls := prometheus.Labels{}
	for i, l := range f.m.Labels {
		ls[l.Name] = f.series[0][i]
		if l.Name == name && slices.Contains(labelValues(l), value) {
			ls[l.Name] = value
		}
	}
	return ls
}

func (sim *Simulator) latency(p profile) float64 {
	r := sim.rng.Float64()
	switch {
	case r < p.slowShare:
		return 1200 + sim.rng.Float64()*2800
	case r < p.slowShare+(1-p.slowShare)*0.97:
		return 10 + sim.rng.Float64()*190
	default:
		return 200 + sim.rng.Float64()*250
	}
}

// Run advances the simulation every tick (Options.Tick) by the wall time
// that actually passed, until ctx is done.
func (sim *Simulator) Run(ctx context.Context) {
	t := time.NewTicker(sim.tick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			sim.Step(now.Sub(last))
			last = now
		}
	}
}

// APIRegistry is the registry behind the API's /metrics, for tests that
// gather it directly.
func (sim *Simulator) APIRegistry() *prometheus.Registry { return sim.api }
