package cli

import (
	"context"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/investiq/investiq-mon/internal/sizing"
	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/spec"
)

// statusSizing is the sizing part of `status`: the estimate from the spec
// and, when Prometheus answers, what its head really holds.
type statusSizing struct {
	Estimate *sizing.Estimate `json:"estimate"`
	Observed *sizing.Observed `json:"observed,omitempty"`
	Error    string           `json:"error,omitempty"`
}

// sizingStatus never fails status: a problem is reported in Error.
func sizingStatus(ctx context.Context, s *spec.Spec, ep stack.Endpoints) *statusSizing {
	out := &statusSizing{}
	est, err := sizing.FromSpec(s, sizing.Options{})
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.Estimate = est
	c, err := promapi.NewClient(promapi.Config{Address: ep.Prometheus, Client: stack.HTTPClient(ep.User, ep.Password, 10*time.Second)})
	if err != nil {
		out.Error = err.Error()
		return out
	}
	if out.Observed, err = sizing.Observe(ctx, v1.NewAPI(c)); err != nil {
		out.Error = err.Error()
	}
	return out
}
