package spec

import "time"

// This file is InvestIQ's monitoring stack, read top to bottom: what the API
// exposes, how it is scraped, when someone is paged, where the page goes and
// what the dashboard shows. To add a metric, alert or panel, edit it here and
// run `investiq-mon generate`; `investiq-mon validate` and `make test` then
// tell you whether everything still fits together.

// Settings are the knobs that differ between deployments. The zero value
// of each field means "InvestIQ's default".
type Settings struct {
	// APIAddress is where the API's /metrics is scraped (api-server:3000).
	APIAddress string
	// MLAddress is the ML signal-models service (ml-service:8000).
	MLAddress string
	// Retention of Prometheus samples (15 days).
	Retention time.Duration
	// APIScrapeInterval (10s), MLScrapeInterval (30s) and
	// EvaluationInterval (10s). Tests shorten them to see alerts fire in
	// seconds without touching any rule.
	APIScrapeInterval  time.Duration
	MLScrapeInterval   time.Duration
	EvaluationInterval time.Duration
	// PrometheusAddress and AlertmanagerAddress are how the stack reaches
	// its own servers (prometheus:9090, alertmanager:9093).
	PrometheusAddress   string
	AlertmanagerAddress string
	// PublishAddress is the host address for published ports (127.0.0.1).
	PublishAddress string
	// PrometheusPort, AlertmanagerPort and GrafanaPort are the host ports
	// the compose stack publishes (9090, 9093, 3001).
	PrometheusPort, AlertmanagerPort, GrafanaPort int
}

// DefaultSettings are InvestIQ's defaults, every field filled.
func DefaultSettings() Settings { return Settings{}.withDefaults() }

func (s Settings) withDefaults() Settings {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&s.APIAddress, "api-server:3000")
	def(&s.MLAddress, "ml-service:8000")
	def(&s.PrometheusAddress, "prometheus:9090")
	def(&s.AlertmanagerAddress, "alertmanager:9093")
	def(&s.PublishAddress, "127.0.0.1")
	defd(&s.Retention, 15*24*time.Hour)
	defd(&s.APIScrapeInterval, 10*time.Second)
	defd(&s.MLScrapeInterval, 30*time.Second)
	defd(&s.EvaluationInterval, 10*time.Second)
	defp := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defp(&s.PrometheusPort, DefaultPrometheusPort)
	defp(&s.AlertmanagerPort, DefaultAlertmanagerPort)
	defp(&s.GrafanaPort, DefaultGrafanaPort)
	return s
}

// Job names, used in alert expressions and the ML/API health panels.
const (
	JobAPI          = "investiq-api"
	JobML           = "ml-service"
	JobPrometheus   = "prometheus"
	JobAlertmanager = "alertmanager"
)

// InvestIQ returns the stack for the given settings.
func InvestIQ(set Settings) *Spec {
	set = set.withDefaults()
	return &Spec{
		Project:            "investiq",
		Metrics:            investiqMetrics(),
		Jobs:               investiqJobs(set),
		EvaluationInterval: set.EvaluationInterval,
		Retention:          set.Retention,
		RuleGroup:          "investiq.alerts",
		Alerts:             investiqAlerts(),
		SLOs:               investiqSLOs(),
		Receivers:          investiqReceivers(),
		Routing:            investiqRouting(),
		DatasourceUID:      "investiq-prometheus",
		// The SLO dashboard ("InvestIQ SLOs") is derived from SLOs by
		// render, as their rules, tests and runbook sections are.
		Dashboards: []Dashboard{overviewDashboard()},
		Ports:      Ports{Prometheus: set.PrometheusPort, Alertmanager: set.AlertmanagerPort, Grafana: set.GrafanaPort},
		Images: Images{
			Prometheus:   "prom/prometheus:v3.16.0",
			Alertmanager: "prom/alertmanager:v0.31.1",
			Grafana:      "grafana/grafana:12.3.0",
		},
		PublishAddress: set.PublishAddress,
		StackUser:      "investiq",
		RunbookURL:     "RUNBOOK.md",
		SecretsDir:     "/run/secrets",
		WebConfigFile:  "/etc/investiq/web.yml",
		Network:        "investiq",

		PrometheusURL:        "http://" + set.PrometheusAddress,
		AlertmanagerURL:      "http://" + set.AlertmanagerAddress,
		GrafanaDashboardsDir: "/etc/grafana/dashboards",

		RemoteWrite: investiqRemoteWrite(),
		Federation:  investiqFederation(),
		Kubernetes:  investiqKubernetes(),
	}
}

// Default is InvestIQ's stack with every default setting.
func Default() *Spec { return InvestIQ(Settings{}) }

// ---- Metrics: what the API exposes at /metrics -----------------------------

var dependencies = []string{"database", "redis", "polygon", "alpaca", "ml_service"}

// maxEndpoints bounds the endpoint label: the API labels requests by route
// template (/api/analyze/:symbol), never by raw path, so the series count
// follows the number of routes, not the number of symbols. Sizing plans
// for this many; raise it when routes are added.
const maxEndpoints = 10

func investiqMetrics() []Metric {
	return []Metric{
		{
			Name: "investiq_requests_total", Type: Counter, Unit: "requests", Job: JobAPI,
			Help:   "Total number of requests by endpoint.",
			Labels: []Label{{Name: "endpoint", Help: "Route template, e.g. /api/analyze/:symbol.", MaxValues: maxEndpoints}},
		},
		{
			Name: "investiq_request_duration_milliseconds", Type: Histogram, Unit: "milliseconds", Job: JobAPI,
			Help:    "Request latency distribution in milliseconds.",
			Labels:  []Label{{Name: "endpoint", Help: "Route template.", MaxValues: maxEndpoints}},
			Buckets: []float64{5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000},
		},
		{
			Name: "investiq_errors_total", Type: Counter, Unit: "errors", Job: JobAPI,
			Help:   "Total number of errors by type.",
			Labels: []Label{{Name: "type", Help: "Error class, e.g. database, upstream, validation.", MaxValues: 5}},
		},
		{
			Name: "investiq_active_connections", Type: Gauge, Job: JobAPI,
			Help: "Current active WebSocket and HTTP connections.",
		},
		{
			Name: "investiq_trades_total", Type: Counter, Unit: "trades", Job: JobAPI,
			Help: "Total trades executed.",
		},
		{
			Name: "investiq_analyses_total", Type: Counter, Unit: "analyses", Job: JobAPI,
			Help: "Total symbol analyses performed.",
		},
		{
			Name: "investiq_dependency_health", Type: Gauge, Job: JobAPI,
			Help:   "Health status per dependency (0=down, 1=up).",
			Labels: []Label{{Name: "name", Help: "The dependency.", Values: dependencies}},
			States: []State{{Value: 0, Text: "Down"}, {Value: 1, Text: "Up", Healthy: true}},
		},
		{
			Name: "investiq_trading_halted", Type: Gauge, Job: JobAPI,
			Help:   "Trading circuit breaker status (0=active, 1=halted).",
			States: []State{{Value: 0, Text: "Active", Healthy: true}, {Value: 1, Text: "Halted"}},
		},
	}
}

// ---- Scraping ----------------------------------------------------------------

func investiqJobs(set Settings) []ScrapeJob {
	return []ScrapeJob{
		{Name: JobAPI, Targets: []string{set.APIAddress}, MetricsPath: "/metrics", Interval: set.APIScrapeInterval},
		{Name: JobML, Targets: []string{set.MLAddress}, MetricsPath: "/metrics", Interval: set.MLScrapeInterval},
		{Name: JobPrometheus, Targets: []string{set.PrometheusAddress}, MetricsPath: "/metrics", Interval: set.APIScrapeInterval, StackAuth: true},
		{Name: JobAlertmanager, Targets: []string{set.AlertmanagerAddress}, MetricsPath: "/metrics", Interval: set.APIScrapeInterval, StackAuth: true},
	}
}

// ---- Alerts: when a person is told -----------------------------------------

func investiqAlerts() []Alert {
	return []Alert{
		{
			Name:        "HighErrorRate",
			Expr:        `sum(rate(investiq_errors_total[1m])) > 0.1`,
			For:         2 * time.Minute,
			Severity:    Warning,
			Component:   "api",
			Summary:     "InvestIQ API error rate is above 0.1 errors/s",
			Description: "The API has returned {{ $value | printf \"%.2f\" }} errors/s for more than 2 minutes.",
			Condition:   "The API's errors, summed over every type, exceed 0.1 per second for 2 minutes.",
			Action:      "Investigate the API's error logs and check downstream dependencies (database, Redis, Polygon, Alpaca).",
			Panel:       "Error Rate",
			// No errors for 5m, then errors at a steady rate. A counter rising
			// by 1.125 every 10s is 0.1125 errors/s; rate()[1m] sees the full
			// slope from 6m on (its window then holds only rising samples), so
			// the alert is pending from 6m and fires at 8m.
			Cases: []Case{
				{
					Name:     "fires once above 0.1 errors/s for 2m",
					Interval: 10 * time.Second,
					Series:   []Series{{`investiq_errors_total{type="database"}`, "0x30 1.125+1.125x29"}},
					Checks: []Check{
						{At: 4 * time.Minute},
						{At: 9 * time.Minute, Firing: []Expected{{
							// printf "%.2f" of 0.1125.
							Annotations: map[string]string{"description": "The API has returned 0.11 errors/s for more than 2 minutes."},
						}}},
					},
				},
				{
					Name:     "silent while above 0.1 errors/s for less than 2m",
					Interval: 10 * time.Second,
					Series:   []Series{{`investiq_errors_total{type="database"}`, "0x30 1.125+1.125x29"}},
					// Pending from 6m: at 7m it has held 1m, at 7m50s 1m50s.
					Checks: []Check{{At: 6 * time.Minute}, {At: 7 * time.Minute}, {At: 7*time.Minute + 50*time.Second}},
				},
				{
					Name:     "silent just below 0.1 errors/s",
					Interval: 10 * time.Second,
					// 0.875 every 10s: 0.0875 errors/s for 10 minutes.
					Series: []Series{{`investiq_errors_total{type="database"}`, "0x30 0.875+0.875x59"}},
					Checks: []Check{{At: 7 * time.Minute}, {At: 10 * time.Minute}, {At: 15 * time.Minute}},
				},
				{
					Name:     "silent after a burst shorter than 2m",
					Interval: 10 * time.Second,
					// 0.1125 errors/s from 5m to 7m, then none: rate()[1m] is
					// above 0.1 from 6m to 7m only.
					Series: []Series{{`investiq_errors_total{type="database"}`, "0x30 1.125+1.125x11 13.5x30"}},
					Checks: []Check{{At: 6 * time.Minute}, {At: 7 * time.Minute}, {At: 8 * time.Minute}, {At: 10 * time.Minute}},
				},
			},
		},
		{
			Name: "HighLatency",
			Expr: `histogram_quantile(0.95, sum by (le) (rate(investiq_request_duration_milliseconds_bucket[5m]))) > 1000`,
			For:  5 * time.Minute, Severity: Warning, Component: "api",
			Summary:     "InvestIQ API p95 latency is above 1s",
			Description: "The API's 95th percentile request latency has been {{ $value | printf \"%.0f\" }} ms for more than 5 minutes.",
			Condition:   "The 95th percentile of request latency, from the millisecond histogram over 5 minutes, exceeds 1000 ms for 5 minutes.",
			Action:      "Check database query performance and Polygon API rate limits.",
			Panel:       "Latency",
			// 1000 requests every 10s. Slow traffic: 900 under 500 ms, 45 more
			// under 1000 ms, the other 55 under 2500 ms. The 950th request of
			// 1000 is the 5th of the 55 in (1000, 2500], so p95 =
			// 1000 + 1500*5/55 = 1136 ms. Every bucket grows in the same
			// proportion, so rate() over any window gives that same p95.
			// The condition holds from the first rate() at 10s: pending from
			// 10s, firing from 5m10s.
			Cases: []Case{
				{
					Name:     "fires once p95 is above 1s for 5m",
					Interval: 10 * time.Second,
					Series: []Series{
						{`investiq_request_duration_milliseconds_bucket{endpoint="/api/analyze/:symbol",le="500"}`, "0+900x60"},
						{`investiq_request_duration_milliseconds_bucket{endpoint="/api/analyze/:symbol",le="1000"}`, "0+945x60"},
						{`investiq_request_duration_milliseconds_bucket{endpoint="/api/analyze/:symbol",le="2500"}`, "0+1000x60"},
						{`investiq_request_duration_milliseconds_bucket{endpoint="/api/analyze/:symbol",le="+Inf"}`, "0+1000x60"},
					},
					Checks: []Check{
						{At: 6 * time.Minute, Firing: []Expected{{
							Annotations: map[string]string{"description": "The API's 95th percentile request latency has been 1136 ms for more than 5 minutes."},
						}}},
						{At: 10 * time.Minute, Firing: []Expected{{
							Annotations: map[string]string{"description": "The API's 95th percentile request latency has been 1136 ms for more than 5 minutes."},
						}}},
					},
				},
				{
					Name:     "silent while p95 is above 1s for less than 5m",
					Interval: 10 * time.Second,
					Series: []Series{
						{`investiq_request_duration_milliseconds_bucket{endpoint="/api/analyze/:symbol",le="500"}`, "0+900x60"},
						{`investiq_request_duration_milliseconds_bucket{endpoint="/api/analyze/:symbol",le="1000"}`, "0+945x60"},
						{`investiq_request_duration_milliseconds_bucket{endpoint="/api/analyze/:symbol",le="2500"}`, "0+1000x60"},
						{`investiq_request_duration_milliseconds_bucket{endpoint="/api/analyze/:symbol",le="+Inf"}`, "0+1000x60"},
					},
					// Pending from 10s: held 4m50s at 5m.
					Checks: []Check{{At: 1 * time.Minute}, {At: 4 * time.Minute}, {At: 5 * time.Minute}},
				},
				{
					Name:     "silent just below p95 1s",
					Interval: 10 * time.Second,
					// 955 of 1000 under 1000 ms: the 950th request is the 50th
					// of the 55 in (500, 1000], p95 = 500 + 500*50/55 = 955 ms.
					Series: []Series{
						{`investiq_request_duration_milliseconds_bucket{endpoint="/api/analyze/:symbol",le="500"}`, "0+900x60"},
						{`investiq_request_duration_milliseconds_bucket{endpoint="/api/analyze/:symbol",le="1000"}`, "0+955x60"},
						{`investiq_request_duration_milliseconds_bucket{endpoint="/api/analyze/:symbol",le="2500"}`, "0+1000x60"},
						{`investiq_request_duration_milliseconds_bucket{endpoint="/api/analyze/:symbol",le="+Inf"}`, "0+1000x60"},
					},
					Checks: []Check{{At: 6 * time.Minute}, {At: 10 * time.Minute}},
				},
			},
		},
		{
			Name:        "MLServiceDown",
			Expr:        `up{job="ml-service"} == 0 or absent(up{job="ml-service"})`,
			For:         5 * time.Minute,
			Severity:    Warning,
			Component:   "ml",
			Summary:     "ML signal-models service is unreachable",
			Description: "Prometheus has not been able to scrape the ML signal-models service ({{ $labels.instance }}) for more than 5 minutes.",
			Condition:   "The ml-service scrape target is down, or missing entirely, for 5 minutes.",
			Action:      "Check the ML service's logs and verify that its models loaded.",
			Panel:       "ML Signal Models",
			// Scraped every 30s. Up until 5m, then down from 5m30s: pending
			// from 5m30s, firing from 10m30s.
			Cases: []Case{
				{
					Name:     "fires once down for 5m",
					Interval: 30 * time.Second,
					Series:   []Series{{`up{job="ml-service",instance="ml-service:8000"}`, "1x10 0x20"}},
					Checks: []Check{
						{At: 5 * time.Minute},
						{At: 11 * time.Minute, Firing: []Expected{{Labels: map[string]string{"job": "ml-service", "instance": "ml-service:8000"}}}},
					},
				},
				{
					Name:     "silent while down for less than 5m",
					Interval: 30 * time.Second,
					// Down from 5m30s to 9m30s, up again at 10m.
					Series: []Series{{`up{job="ml-service",instance="ml-service:8000"}`, "1x10 0x8 1x20"}},
					Checks: []Check{{At: 6 * time.Minute}, {At: 9*time.Minute + 50*time.Second}, {At: 10*time.Minute + 30*time.Second}, {At: 12 * time.Minute}},
				},
				{
					Name:     "silent while up",
					Interval: 30 * time.Second,
					Series:   []Series{{`up{job="ml-service",instance="ml-service:8000"}`, "1x40"}},
					Checks:   []Check{{At: 5 * time.Minute}, {At: 20 * time.Minute}},
				},
				{
					Name:     "fires once the target has disappeared for 5m",
					Interval: 30 * time.Second,
					// The target leaves service discovery at 5m30s: Prometheus
					// writes a stale marker and up is absent from then on.
					// absent() keeps only the job matcher's label.
					Series: []Series{{`up{job="ml-service",instance="ml-service:8000"}`, "1x10 stale"}},
					Checks: []Check{
						{At: 10 * time.Minute},
						{At: 11 * time.Minute, Firing: []Expected{{Labels: map[string]string{"job": "ml-service"}}}},
					},
				},
			},
		},
		{
			Name:        "ServiceDown",
			Expr:        `up{job="investiq-api"} == 0 or absent(up{job="investiq-api"})`,
			For:         1 * time.Minute,
			Severity:    Critical,
			Component:   "api",
			Summary:     "InvestIQ API is unreachable",
			Description: "Prometheus has not been able to scrape the InvestIQ API ({{ $labels.instance }}) for more than 1 minute.",
			Condition:   "The investiq-api scrape target is down, or missing entirely, for 1 minute.",
			Action:      "Investigate immediately: check the API container's health, logs and restarts.",
			Panel:       "Request Rate",
			// Scraped every 10s. Up until 5m, down from 5m10s: pending from
			// 5m10s, firing from 6m10s.
			Cases: []Case{
				{
					Name:     "fires once down for 1m",
					Interval: 10 * time.Second,
					Series:   []Series{{`up{job="investiq-api",instance="api-server:3000"}`, "1x30 0x30"}},
					Checks: []Check{
						{At: 5 * time.Minute},
						{At: 7 * time.Minute, Firing: []Expected{{Labels: map[string]string{"job": "investiq-api", "instance": "api-server:3000"}}}},
					},
				},
				{
					Name:     "silent while down for less than 1m",
					Interval: 10 * time.Second,
					// Down from 5m10s to 5m50s, up again at 6m.
					Series: []Series{{`up{job="investiq-api",instance="api-server:3000"}`, "1x30 0x4 1x30"}},
					Checks: []Check{{At: 5*time.Minute + 50*time.Second}, {At: 6 * time.Minute}, {At: 8 * time.Minute}},
				},
				{
					Name:     "silent while up",
					Interval: 10 * time.Second,
					Series:   []Series{{`up{job="investiq-api",instance="api-server:3000"}`, "1x60"}},
					Checks:   []Check{{At: 5 * time.Minute}, {At: 10 * time.Minute}},
				},
				{
					Name:     "fires once the target has disappeared for 1m",
					Interval: 10 * time.Second,
					// A stale marker at 5m10s, then no samples.
					Series: []Series{{`up{job="investiq-api",instance="api-server:3000"}`, "1x30 stale"}},
					Checks: []Check{
						{At: 6 * time.Minute},
						{At: 7 * time.Minute, Firing: []Expected{{Labels: map[string]string{"job": "investiq-api"}}}},
					},
				},
			},
		},
		{
			Name:        "CircuitBreakerTripped",
			Expr:        `max(investiq_trading_halted) == 1`,
			For:         30 * time.Second,
			Severity:    Critical,
			Component:   "trading",
			Summary:     "Trading is halted by the circuit breaker",
			Description: "Risk management has halted trading for more than 30 seconds.",
			Condition:   "The trading circuit breaker reports halted (investiq_trading_halted = 1) for 30 seconds.",
			Action:      "Review the circuit breaker's reason in the API logs and assess market conditions before resuming.",
			Panel:       "Trading Status",
			// Scraped every 10s. Halted from 5m10s: pending from 5m10s,
			// firing from 5m40s. max() keeps no label of the series.
			Cases: []Case{
				{
					Name:     "fires once halted for 30s",
					Interval: 10 * time.Second,
					Series:   []Series{{`investiq_trading_halted{job="investiq-api",instance="api-server:3000"}`, "0x30 1x30"}},
					Checks: []Check{
						{At: 5 * time.Minute},
						{At: 6 * time.Minute, Firing: []Expected{{}}},
					},
				},
				{
					Name:     "silent while halted for less than 30s",
					Interval: 10 * time.Second,
					Series:   []Series{{`investiq_trading_halted{job="investiq-api",instance="api-server:3000"}`, "0x30 1x30"}},
					// Held 10s at 5m20s, 20s at 5m30s.
					Checks: []Check{{At: 5*time.Minute + 20*time.Second}, {At: 5*time.Minute + 30*time.Second}},
				},
				{
					Name:     "silent after a halt shorter than 30s",
					Interval: 10 * time.Second,
					// Halted at 5m10s and 5m20s only.
					Series: []Series{{`investiq_trading_halted{job="investiq-api",instance="api-server:3000"}`, "0x30 1x1 0x30"}},
					Checks: []Check{{At: 5*time.Minute + 20*time.Second}, {At: 6 * time.Minute}, {At: 8 * time.Minute}},
				},
				{
					Name:     "silent while trading is active",
					Interval: 10 * time.Second,
					Series:   []Series{{`investiq_trading_halted{job="investiq-api",instance="api-server:3000"}`, "0x60"}},
					Checks:   []Check{{At: 5 * time.Minute}, {At: 10 * time.Minute}},
				},
			},
		},
	}
}

// ---- SLOs --------------------------------------------------------------------

func investiqSLOs() []SLO {
	return []SLO{
		{
			Name:        "availability",
			Description: "Share of API requests that do not fail.",
			Objective:   0.999,
			Window:      30 * 24 * time.Hour,
			Ratio:       &RatioSLI{Errors: "investiq_errors_total", Total: "investiq_requests_total"},
		},
		{
			Name:        "latency",
			Description: "Share of API requests served in under 500 ms.",
			Objective:   0.99,
			Window:      30 * 24 * time.Hour,
			Latency:     &LatencySLI{Histogram: "investiq_request_duration_milliseconds", ThresholdMs: 500},
		},
	}
}

// ---- Notifications: where alerts go ----------------------------------------

func investiqReceivers() []Receiver {
	return []Receiver{
		{Name: "discord", Kind: Discord, SecretFile: "discord_webhook_url", SendResolved: true},
		{Name: "slack", Kind: Slack, SecretFile: "slack_api_url", Channel: "#investiq-alerts", SendResolved: true},
		{
			Name: "email", Kind: Email, SecretFile: "smtp_password",
			To: "oncall@investiq.example", From: "alertmanager@investiq.example",
			Smarthost: "smtp.investiq.example:587", AuthUsername: "alertmanager@investiq.example",
			SendResolved: true,
		},
		{Name: "pagerduty", Kind: PagerDuty, SecretFile: "pagerduty_routing_key", SendResolved: true},
		{Name: "webhook", Kind: Webhook, SecretFile: "webhook_url", SendResolved: true},
	}
}

func investiqRouting() Routing {
	return Routing{
		Default:        "discord",
		GroupBy:        []string{"alertname"},
		GroupWait:      10 * time.Second,
		GroupInterval:  10 * time.Second,
		RepeatInterval: 12 * time.Hour,
		Routes: []Route{
			// Every alert also reaches the generic webhook (automation, audit).
			{Receiver: "webhook", Continue: true},
			// Critical alerts page the on-call person and email them...
			{Matchers: []string{`severity="critical"`}, Receiver: "pagerduty", Continue: true},
			{Matchers: []string{`severity="critical"`}, Receiver: "email", Continue: true},
			// ...warnings go to the team's Slack channel...
			{Matchers: []string{`severity="warning"`}, Receiver: "slack", Continue: true},
			// ...and everything lands in Discord, the team's default channel.
			{Receiver: "discord"},
		},
		Inhibit: []Inhibit{
			// While the API is down, its error-rate and latency alerts are noise.
			{
				Source: []string{`alertname="ServiceDown"`},
				Target: []string{`alertname=~"HighErrorRate|HighLatency"`},
				Equal:  []string{"component"},
			},
		},
	}
}

// ---- Dashboards ----------------------------------------------------------------

func overviewDashboard() Dashboard {
	health := func(title, dep string) Panel {
		return Panel{
			Title: title, Kind: Stat, Unit: "none",
			// min: with several API replicas, one that cannot reach the
			// dependency is enough to show it down.
			Queries: []Query{{Expr: `min(investiq_dependency_health{name="` + dep + `"})`, Instant: true}},
			States:  []State{{Value: 0, Text: "Down"}, {Value: 1, Text: "Up", Healthy: true}},
		}
	}
	return Dashboard{
		UID: "investiq-overview", Title: "InvestIQ Overview", File: "investiq-overview.json",
		Tags: []string{"investiq"}, From: "now-1h", Refresh: "30s",
		Rows: []Row{
			{Title: "Performance", Panels: []Panel{
				{
					Title: "Request Rate", Kind: TimeSeries, Unit: "reqps",
					Description: "Requests per second, by endpoint.",
					Queries:     []Query{{Expr: `sum by (endpoint) (rate(investiq_requests_total[$__rate_interval]))`, Legend: "{{endpoint}}"}},
				},
				{
					Title: "Error Rate", Kind: TimeSeries, Unit: "suffix: errors/s",
					Description: "Errors per second, by type; the red line is HighErrorRate's threshold.",
					Queries:     []Query{{Expr: `sum by (type) (rate(investiq_errors_total[$__rate_interval]))`, Legend: "{{type}}"}},
					Thresholds:  []Threshold{{Color: "green"}, {Value: 0.1, Color: "red"}},
				},
			}},
			{Title: "Latency", Panels: []Panel{
				{
					Title: "Latency", Kind: TimeSeries, Unit: "ms",
					Description: "p50, p95 and p99 request latency from the histogram; the red line is HighLatency's threshold.",
					Queries: []Query{
						{Expr: `histogram_quantile(0.50, sum by (le) (rate(investiq_request_duration_milliseconds_bucket[$__rate_interval])))`, Legend: "p50"},
						{Expr: `histogram_quantile(0.95, sum by (le) (rate(investiq_request_duration_milliseconds_bucket[$__rate_interval])))`, Legend: "p95"},
						{Expr: `histogram_quantile(0.99, sum by (le) (rate(investiq_request_duration_milliseconds_bucket[$__rate_interval])))`, Legend: "p99"},
					},
					Thresholds: []Threshold{{Color: "green"}, {Value: 1000, Color: "red"}},
				},
				{
					Title: "Active Connections", Kind: TimeSeries, Unit: "short",
					Description: "Current WebSocket and HTTP connections.",
					Queries:     []Query{{Expr: `sum(investiq_active_connections)`, Legend: "connections"}},
				},
			}},
			{Title: "Business", Panels: []Panel{
				{
					Title: "Trades (24h)", Kind: Stat, Unit: "short",
					Description: "Trades executed in the last 24 hours.",
					Queries:     []Query{{Expr: `sum(increase(investiq_trades_total[24h]))`, Instant: true}},
				},
				{
					Title: "Analyses (24h)", Kind: Stat, Unit: "short",
					Description: "Symbol analyses performed in the last 24 hours.",
					Queries:     []Query{{Expr: `sum(increase(investiq_analyses_total[24h]))`, Instant: true}},
				},
			}},
			{Title: "Health", Panels: []Panel{
				health("Database (SQLite)", "database"),
				health("Redis Cache", "redis"),
				health("Polygon API", "polygon"),
				health("Alpaca Broker", "alpaca"),
				health("ML Signal Models", "ml_service"),
				{
					Title: "Trading Status", Kind: Stat, Unit: "none",
					Queries: []Query{{Expr: `max(investiq_trading_halted)`, Instant: true}},
					States:  []State{{Value: 0, Text: "Active", Healthy: true}, {Value: 1, Text: "Halted"}},
				},
			}},
		},
	}
}

// ---- Growing past one machine ---------------------------------------------
//
// README.md, "Growing past one machine", says which of these to pick when.

// investiqRemoteWrite is where Prometheus sends every sample for long-term
// storage. Off by default; for a Mimir, Cortex or Thanos Receive store:
//
//	return []RemoteWrite{{
//		Name: "longterm", URL: "https://mimir.example/api/v1/push",
//		BasicAuthUser: "investiq", PasswordSecret: "remote_write_password",
//		// The store keeps the SLO recording rules and the quantile inputs it
//		// needs; per-endpoint histogram buckets stay local.
//		Relabel: []WriteRelabel{{Action: Drop, SourceLabels: []string{"__name__", "endpoint"},
//			Regex: "investiq_request_duration_milliseconds_bucket;.+"}},
//	}}
func investiqRemoteWrite() []RemoteWrite { return nil }

// investiqFederation renders global/prometheus.yml, a global Prometheus
// that takes the recording rules and alerts of each InvestIQ server. Off by
// default; for two regions:
//
//	return &Federation{Interval: time.Minute, Sources: []FederationSource{
//		{Name: "eu", Address: "prometheus-eu.investiq.example:9090"},
//		{Name: "us", Address: "prometheus-us.investiq.example:9090", PasswordSecret: "prometheus_us_password"},
//	}}
func investiqFederation() *Federation { return nil }

// investiqKubernetes is what `generate --target kubernetes` needs to know
// about the cluster: kube-prometheus-stack installed as Helm release
// "kube-prometheus-stack" in namespace "monitoring", InvestIQ's Services
// labelled app.kubernetes.io/name=api-server and ml-service with a port
// named http, and .env loaded as Secret investiq-monitoring.
func investiqKubernetes() Kubernetes {
	return Kubernetes{
		Namespace: "investiq",
		Labels: map[string]string{
			"app.kubernetes.io/part-of": "investiq",
			// kube-prometheus-stack's Prometheus and Alertmanager select
			// resources labelled with their Helm release.
			"release": "kube-prometheus-stack",
		},
		SecretName:    "investiq-monitoring",
		PrometheusURL: "http://prometheus-operated.monitoring.svc:9090",
	}
}
