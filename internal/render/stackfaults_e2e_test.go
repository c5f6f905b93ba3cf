package render_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/internal/simulate"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// Issue 17, faults of the stack itself, on the pinned Prometheus and
// Alertmanager with the rendered files: what a person relying on the
// stack sees when one of its own servers goes away.

// faultAlert is the alert these tests trip: the simulator's halted
// scenario sets investiq_trading_halted, and its rule has the shortest
// `for` of the spec.
const faultAlert = "CircuitBreakerTripped"

// prometheusResendDelay is Prometheus' --rules.alert.resend-delay, which
// render.PrometheusArgs leaves at its default: a firing alert is sent to
// Alertmanager again at most this often.
const prometheusResendDelay = time.Minute

func specAlert(t *testing.T, s *spec.Spec, name string) spec.Alert {
	t.Helper()
	for _, a := range s.Alerts {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("the spec has no alert %s", name)
	return spec.Alert{}
}

// promAlert returns the alert's state in Prometheus (nil when inactive).
func promAlert(ctx context.Context, t *testing.T, api v1.API, name string) *v1.Alert {
	t.Helper()
	res, err := api.Alerts(ctx)
	if err != nil {
		t.Logf("alerts: %v", err)
		return nil
	}
	for _, a := range res.Alerts {
		if string(a.Labels[model.AlertNameLabel]) == name {
			return &a
		}
	}
	return nil
}

// waitAlert polls Prometheus until cond holds for the alert.
func waitAlert(t *testing.T, api v1.API, name string, within time.Duration, what string, cond func(*v1.Alert) bool) *v1.Alert {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		if a := promAlert(ctx, t, api, name); cond(a) {
			return a
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %s not %s within %s", name, name, what, within)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// promMetric sums the samples of a Prometheus self-metric (from its own
// /metrics, which the stack does not scrape) whose line contains match.
func promMetric(t *testing.T, rs *testutil.RenderedStack, name, match string) (float64, bool) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rs.PrometheusURL()+"/metrics", nil)
	req.SetBasicAuth(rs.User, rs.Password)
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, false
	}
	defer res.Body.Close()
	var sum float64
	found := false
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) || !strings.Contains(line, match) {
			continue
		}
		rest := strings.TrimPrefix(line, name)
		if rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
			found = true
		}
	}
	return sum, found
}

// An alert that fires while Alertmanager is down is not lost: Prometheus
// fails to send it, keeps it firing, sends it again after its resend
// delay, and Alertmanager (which keeps no alerts on disk) delivers it to
// the receiver after its group wait. The bound asserted is the one the
// issue names, one group_interval plus the resend delay, plus one
// evaluation interval and group_wait (a fresh Alertmanager starts a new
// group), plus slack for this shared machine.
func TestAlertDeliveredOnceAlertmanagerIsBack(t *testing.T) {
	testutil.Bin(t, "prometheus")
	testutil.Bin(t, "alertmanager")
	rs, sim, _ := testutil.SimulatedStack(t)
	hook := testutil.NewWebhook(t)
	env, err := secrets.Load(rs.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Set(rs.Spec, "WEBHOOK_URL", hook.URL); err != nil {
		t.Fatal(err)
	}
	if err := env.WriteFiles(rs.Spec, rs.Spec.SecretsDir, rs.Spec.WebConfigFile); err != nil {
		t.Fatal(err)
	}
	testutil.StartPrometheus(t, rs)
	am := testutil.StartAlertmanager(t, rs)
	api := testutil.PromAPI(t, rs.PrometheusURL(), rs.User, rs.Password)
	ctx := context.Background()

	if err := am.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sim.SetScenario(simulate.Halted); err != nil {
		t.Fatal(err)
	}
	a := specAlert(t, rs.Spec, faultAlert)
	fired := waitAlert(t, api, faultAlert, a.For+3*time.Minute, "firing", func(a *v1.Alert) bool { return a != nil && a.State == v1.AlertStateFiring })
	// Prometheus has tried to send it and failed: Alertmanager is down.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if n, _ := promMetric(t, rs, "prometheus_notifications_errors_total", ""); n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Prometheus reports no failed notification while Alertmanager is down")
		}
		time.Sleep(500 * time.Millisecond)
	}
	if msgs := hook.Messages(); len(msgs) != 0 {
		t.Fatalf("a notification arrived while Alertmanager was down: %+v", msgs[0])
	}

	backAt := time.Now()
	if err := am.Start(ctx); err != nil {
		t.Fatal(err)
	}
	rt := rs.Spec.Routing
	bound := prometheusResendDelay + rt.GroupInterval + rt.GroupWait + rs.Spec.EvaluationInterval
	const slack = 30 * time.Second
	wctx, cancel := context.WithTimeout(ctx, bound+slack+2*time.Minute)
	defer cancel()
	msg, ok := hook.WaitFor(wctx, func(m testutil.WebhookMessage) bool {
		_, ok := m.Alert(faultAlert, "firing")
		return ok
	})
	if !ok {
		t.Fatalf("%s (firing since %s) was never delivered after Alertmanager came back", faultAlert, fired.ActiveAt)
	}
	delay := msg.Received.Sub(backAt)
	t.Logf("%s delivered %s after Alertmanager came back (bound %s = resend delay %s + group_interval %s + group_wait %s + evaluation %s; slack %s)",
		faultAlert, delay.Round(100*time.Millisecond), bound, prometheusResendDelay, rt.GroupInterval, rt.GroupWait, rs.Spec.EvaluationInterval, slack)
	if delay > bound+slack {
		t.Errorf("delivered %s after Alertmanager came back, past %s + %s slack", delay, bound, slack)
	}
}

// Prometheus restarted while an alert is pending: what the pinned
// Prometheus does with ALERTS_FOR_STATE and the grace period, which is
// what the runbook's "after a Prometheus restart" line is derived from
// (render.RestartPageDelay). Two cases: the alert's `for` shorter than
// the grace period (the default, 10m, longer than every `for` of the
// spec), where the pending time is forgotten; and longer (the grace
// period lowered by flag), where it is restored, shifted by the downtime.
func TestPrometheusRestartWhileAlertPending(t *testing.T) {
	testutil.Bin(t, "prometheus")
	cases := []struct {
		name  string
		grace time.Duration // 0: Prometheus' default, as PrometheusArgs runs it
	}{
		{name: "for shorter than the default grace period: the pending time is lost"},
		{name: "for longer than the grace period: the pending time is restored", grace: 5 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs, sim, _ := testutil.SimulatedStack(t)
			var extra []string
			grace := render.PrometheusForGracePeriod
			if c.grace > 0 {
				grace = c.grace
				extra = append(extra, "--rules.alert.for-grace-period="+c.grace.String())
			}
			prom := testutil.StartPrometheus(t, rs, extra...)
			api := testutil.PromAPI(t, rs.PrometheusURL(), rs.User, rs.Password)
			a := specAlert(t, rs.Spec, faultAlert)
			if err := sim.SetScenario(simulate.Halted); err != nil {
				t.Fatal(err)
			}
			// Pending for two thirds of its `for`, so that what is left
			// (a third) is still longer than the lowered grace period.
			spent := a.For * 2 / 3
			before := waitAlert(t, api, faultAlert, a.For+2*time.Minute, "pending for "+spent.String(), func(p *v1.Alert) bool {
				return p != nil && p.State == v1.AlertStatePending && time.Since(p.ActiveAt) >= spent
			})
			// What Prometheus restores from: ALERTS_FOR_STATE, whose value
			// is the alert's activeAt in Unix seconds.
			v, _, _, err := api.Query(context.Background(), fmt.Sprintf(`ALERTS_FOR_STATE{alertname=%q}`, faultAlert), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			vec, _ := v.(model.Vector)
			if len(vec) != 1 || int64(vec[0].Value) != before.ActiveAt.Unix() {
				t.Fatalf("ALERTS_FOR_STATE = %v, want one series valued %d (activeAt %s)", v, before.ActiveAt.Unix(), before.ActiveAt)
			}
			if now := promAlert(context.Background(), t, api, faultAlert); now == nil || now.State != v1.AlertStatePending {
				t.Fatalf("%s is no longer pending before the restart (%+v): the machine is too slow for this test", faultAlert, now)
			}
			stopAt := time.Now()
			if err := prom.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := prom.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			upAt := time.Now()
			// The `for` state is restored once, after the group's first
			// evaluation; Prometheus says when in a metric.
			group := ""
			rules, err := api.Rules(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range rules.Groups {
				for _, r := range g.Rules {
					if ar, ok := r.(v1.AlertingRule); ok && ar.Name == faultAlert {
						group = g.Name
					}
				}
			}
			deadline := time.Now().Add(2 * time.Minute)
			for {
				if _, ok := promMetric(t, rs, "prometheus_rule_group_last_restore_duration_seconds", ";"+group+`"`); ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("Prometheus did not restore the `for` state of group %q", group)
				}
				time.Sleep(200 * time.Millisecond)
			}
			after := waitAlert(t, api, faultAlert, time.Minute, "active after the restart", func(p *v1.Alert) bool { return p != nil })
			t.Logf("%s (for %s, grace period %s): activeAt %s before the restart (pending %s), %s after; stopped at %s, ready at %s",
				faultAlert, a.For, grace, before.ActiveAt.Format(time.RFC3339Nano), stopAt.Sub(before.ActiveAt).Round(time.Second),
				after.ActiveAt.Format(time.RFC3339Nano), stopAt.Format(time.RFC3339Nano), upAt.Format(time.RFC3339Nano))
			if a.For < grace {
				// Not restored: the hold starts again from the restart.
				if after.ActiveAt.Before(stopAt) {
					t.Errorf("activeAt after the restart %s is before the restart %s: the pending time was restored, but `for` %s < grace period %s should forget it",
						after.ActiveAt, stopAt, a.For, grace)
				}
			} else {
				// Restored, shifted by the downtime: the pending time
				// spent before the restart still counts.
				if !after.ActiveAt.After(before.ActiveAt) || !after.ActiveAt.Before(stopAt) {
					t.Errorf("activeAt after the restart %s, want restored: after the old one %s (shifted by the downtime) and before the restart %s",
						after.ActiveAt, before.ActiveAt, stopAt)
				}
			}
			firing := waitAlert(t, api, faultAlert, a.For+2*time.Minute, "firing", func(p *v1.Alert) bool { return p != nil && p.State == v1.AlertStateFiring })
			firedAt := time.Now()
			late := firedAt.Sub(before.ActiveAt.Add(a.For))
			t.Logf("%s fired at %s: %s later than without the restart (down %s); render.RestartPageDelay says up to %s plus the downtime",
				faultAlert, firedAt.Format(time.RFC3339Nano), late.Round(time.Second), upAt.Sub(stopAt).Round(100*time.Millisecond),
				render.RestartPageDelay(a.For, grace))
			if firing.ActiveAt.Before(after.ActiveAt.Add(-time.Second)) {
				t.Errorf("firing activeAt %s is before the activeAt after the restart %s", firing.ActiveAt, after.ActiveAt)
			}
			if limit := render.RestartPageDelay(a.For, grace) + upAt.Sub(stopAt) + 30*time.Second; late > limit {
				t.Errorf("the restart delayed the page by %s, past what the runbook says (%s plus the downtime, 30s slack)", late, render.RestartPageDelay(a.For, grace))
			}
		})
	}
}
