package render

import (
	"fmt"
	"time"
)

// Prometheus' defaults for restoring the `for` state of alerts after a
// restart (--rules.alert.for-grace-period and
// --rules.alert.for-outage-tolerance), which PrometheusArgs leaves as they
// are in both backends. TestPrometheusRestartWhileAlertPending checks what
// the pinned server does with them.
const (
	PrometheusForGracePeriod     = 10 * time.Minute
	PrometheusForOutageTolerance = time.Hour
)

// RestartPageDelay is how much later than without a restart an alert with
// this `for` (hold) can fire when Prometheus restarts while it is pending,
// not counting the time Prometheus is down. On a restart Prometheus 3.x
// reads each pending alert's start from the ALERTS_FOR_STATE series:
//   - a `for` shorter than the grace period is not restored: the alert
//     starts pending again, so up to its whole `for` is lost;
//   - a longer one is restored (shifted by the downtime), but never fires
//     sooner than one grace period after the restart: up to the grace
//     period is lost.
//
// An alert that was already firing keeps firing at the first evaluation.
func RestartPageDelay(hold, grace time.Duration) time.Duration {
	return min(hold, grace)
}

// restartNote is the runbook's sentence on what a Prometheus restart does
// to this alert's page.
func restartNote(hold time.Duration) string {
	grace, tolerance := PrometheusForGracePeriod, PrometheusForOutageTolerance
	switch {
	case hold <= 0:
		return "the alert has no `for`: a restart delays its page by the time Prometheus is down, no more."
	case hold < grace:
		return fmt.Sprintf("a page can come up to **%s** late, plus the time Prometheus is down: "+
			"its `for` (%s) is shorter than Prometheus' `--rules.alert.for-grace-period` (%s), "+
			"so the time it had already been pending is not restored and the %s starts again. "+
			"An alert already firing keeps firing.",
			dur(RestartPageDelay(hold, grace)), dur(hold), dur(grace), dur(hold))
	default:
		return fmt.Sprintf("a page can come up to **%s** late, plus the time Prometheus is down: "+
			"the time already pending is restored from `ALERTS_FOR_STATE` when Prometheus was down less than %s "+
			"(`--rules.alert.for-outage-tolerance`; longer, and the whole %s `for` starts again), "+
			"but the alert fires no sooner than the %s grace period after the restart. An alert already firing keeps firing.",
			dur(RestartPageDelay(hold, grace)), dur(tolerance), dur(hold), dur(grace))
	}
}
