package stack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// RequestTimeout bounds every HTTP request investiq-mon makes to
// Prometheus, Alertmanager and Grafana (status, doctor, backup, restore,
// up's reloads and readiness probes, grafana reset-password). A server
// that accepts the connection and never answers (stopped with kill -STOP,
// hung, a proxy with nothing behind it) then costs at most this long per
// request. Prometheus' snapshot, which writes the head block to disk, has
// SnapshotTimeout instead.
const RequestTimeout = 10 * time.Second

// SnapshotTimeout bounds POST /api/v1/admin/tsdb/snapshot.
const SnapshotTimeout = 10 * time.Minute

// Explain rewrites a request error as what a person can act on: a
// request that timed out says it did not answer within timeout (the
// transport's own words, "Client.Timeout exceeded while awaiting
// headers", mean little to most); other errors lose the "Get URL:"
// prefix when the caller names the server anyway. The original error
// stays reachable with errors.Is/As.
func Explain(err error, timeout time.Duration) error {
	if err == nil {
		return nil
	}
	if TimedOut(err) {
		return &explained{err, fmt.Sprintf("did not answer within %s (it accepts connections but sends nothing back: stopped, overloaded or hung?)", timeout)}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return &explained{err, ue.Err.Error()}
	}
	return err
}

// TimedOut reports whether err is a request that ran out of time.
func TimedOut(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) ||
		strings.Contains(err.Error(), "Client.Timeout exceeded")
}

type explained struct {
	err error
	msg string
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }
