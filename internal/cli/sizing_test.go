package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// `sizing` works from the spec alone and follows --retention: three
// times the retention, three times the disk.
func TestSizingCommand(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "sizing")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Sizing (retention 15d)", "job investiq-api", "169", "22 recording rules", "total (head)", "206", "own metrics not in the spec"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	var d15, d45 struct {
		DiskBytesHigh float64 `json:"diskBytesHigh"`
	}
	for _, c := range []struct {
		retention string
		into      any
	}{{"15d", &d15}, {"45d", &d45}} {
		code, out, errOut := runCLI(t, nil, "sizing", "--json", "--retention", c.retention)
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if err := json.Unmarshal([]byte(out), c.into); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}
	if d15.DiskBytesHigh <= 0 || d45.DiskBytesHigh/d15.DiskBytesHigh < 2.99 || d45.DiskBytesHigh/d15.DiskBytesHigh > 3.01 {
		t.Errorf("disk for 15d %v, for 45d %v: want three times as much", d15.DiskBytesHigh, d45.DiskBytesHigh)
	}
}

// `status` sets the estimate beside what the running Prometheus holds.
func TestStatusShowsSizing(t *testing.T) {
	rs, _, _ := testutil.SimulatedStack(t)
	testutil.StartAlertmanager(t, rs)
	testutil.StartPrometheus(t, rs)
	state := t.TempDir()
	if err := (stack.Layout{Root: state}).SaveState(stack.State{Backend: stack.Local, Prometheus: rs.PrometheusURL(), Alertmanager: rs.AlertmanagerURL()}); err != nil {
		t.Fatal(err)
	}
	args := []string{"status", "--dir", rs.Dir, "--state", state, "--json"}
	var got struct {
		Sizing statusSizing `json:"sizing"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, out, errOut := runCLI(t, rs.Spec, args...)
		if code != ExitOK {
			t.Fatalf("status: exit %d\n%s", code, errOut)
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if o := got.Sizing.Observed; o != nil && o.Jobs[spec.JobAPI] > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond) // the first scrape
	}
	o, e := got.Sizing.Observed, got.Sizing.Estimate
	if o == nil || e == nil {
		t.Fatalf("status --json sizing: %+v", got.Sizing)
	}
	// The simulator serves exactly what the spec declares.
	if o.Jobs[spec.JobAPI] != e.Jobs[0].Series || o.HeadSeries == 0 {
		t.Errorf("API job: estimate %d series, status says %d; head %d", e.Jobs[0].Series, o.Jobs[spec.JobAPI], o.HeadSeries)
	}
	code, out, _ := runCLI(t, rs.Spec, "status", "--dir", rs.Dir, "--state", state)
	if code != ExitOK || !strings.Contains(out, "Sizing (retention 15d)") || !strings.Contains(out, "REAL") {
		t.Errorf("status text: exit %d, no sizing table with real figures:\n%s", code, out)
	}
}
