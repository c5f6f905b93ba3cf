package render

// promtool's unit test format (`promtool test rules`), typed, in the order
// a reader expects: name, interval, input, then checks. The alert cases and
// the SLO cases are both written with it.
type promTestFile struct {
	RuleFiles          []string        `yaml:"rule_files"`
	EvaluationInterval string          `yaml:"evaluation_interval"`
	Tests              []promTestGroup `yaml:"tests"`
}

type promTestGroup struct {
	Name            string           `yaml:"name"`
	Interval        string           `yaml:"interval"`
	InputSeries     []promTestSeries `yaml:"input_series"`
	AlertRuleTests  []promAlertTest  `yaml:"alert_rule_test,omitempty"`
	PromqlExprTests []promExprTest   `yaml:"promql_expr_test,omitempty"`
}

type promTestSeries struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

type promAlertTest struct {
	EvalTime  string         `yaml:"eval_time"`
	Alertname string         `yaml:"alertname"`
	ExpAlerts []promExpAlert `yaml:"exp_alerts"`
}

type promExpAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

type promExprTest struct {
	Expr       string          `yaml:"expr"`
	EvalTime   string          `yaml:"eval_time"`
	ExpSamples []promExpSample `yaml:"exp_samples"`
}

type promExpSample struct {
	Labels string  `yaml:"labels"`
	Value  float64 `yaml:"value"`
}
