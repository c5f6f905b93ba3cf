package render

import "github.com/investiq/investiq-mon/internal/promtest"

// promtool's unit test format (`promtool test rules`), shared with ruletest
// and validate through package promtest. The alert cases and the SLO cases
// are both written with it.
type (
	promTestFile   = promtest.File
	promTestGroup  = promtest.TestGroup
	promTestSeries = promtest.Series
	promAlertTest  = promtest.AlertTestCase
	promExpAlert   = promtest.ExpAlert
	promExprTest   = promtest.PromqlTestCase
	promExpSample  = promtest.Sample
)
