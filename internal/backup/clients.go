package backup

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"
	amclient "github.com/prometheus/alertmanager/api/v2/client"
	"github.com/prometheus/alertmanager/api/v2/client/general"
	"github.com/prometheus/alertmanager/api/v2/client/silence"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/config"

	"github.com/investiq/investiq-mon/internal/stack"
)

// authTransport adds the stack's basic auth to every request, with the
// round tripper prometheus/common uses for scrape and alerting clients.
func authTransport(ep stack.Endpoints) http.RoundTripper {
	return config.NewBasicAuthRoundTripper(config.NewInlineSecret(ep.User), config.NewInlineSecret(ep.Password), http.DefaultTransport)
}

// promAPI talks to Prometheus with a per-request timeout: without one, a
// stopped Prometheus (kill -STOP accepts connections, answers nothing)
// hung the backup forever.
func promAPI(ep stack.Endpoints) (promv1.API, error) {
	return promAPIWithin(ep, stack.RequestTimeout)
}

func promAPIWithin(ep stack.Endpoints, timeout time.Duration) (promv1.API, error) {
	c, err := api.NewClient(api.Config{Address: ep.Prometheus, Client: &http.Client{Timeout: timeout, Transport: authTransport(ep)}})
	if err != nil {
		return nil, fmt.Errorf("prometheus URL %q: %w", ep.Prometheus, err)
	}
	return promv1.NewAPI(c), nil
}

func amAPI(ep stack.Endpoints) (*amclient.AlertmanagerAPI, error) {
	u, err := url.Parse(ep.Alertmanager)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("alertmanager URL %q: want http://host:port", ep.Alertmanager)
	}
	base := u.Path + amclient.DefaultBasePath
	rt := httptransport.NewWithClient(u.Host, base, []string{u.Scheme}, &http.Client{Timeout: stack.RequestTimeout, Transport: authTransport(ep)})
	return amclient.New(rt, strfmt.Default), nil
}

func amVersion(ctx context.Context, am *amclient.AlertmanagerAPI) (string, error) {
	st, err := am.General.GetStatus(general.NewGetStatusParamsWithContext(ctx))
	if err != nil {
		return "", err
	}
	var v, goVersion string
	if st.Payload != nil && st.Payload.VersionInfo != nil {
		if vi := st.Payload.VersionInfo; vi.Version != nil {
			v = *vi.Version
		}
		if vi := st.Payload.VersionInfo; vi.GoVersion != nil {
			goVersion = *vi.GoVersion
		}
	}
	return stack.BuildVersion(v, goVersion), nil
}

func amSilences(ctx context.Context, am *amclient.AlertmanagerAPI) (models.GettableSilences, error) {
	res, err := am.Silence.GetSilences(silence.NewGetSilencesParamsWithContext(ctx))
	if err != nil {
		return nil, err
	}
	return res.Payload, nil
}

// ready polls url/-/ready until it answers 200 or ctx ends.
func ready(ctx context.Context, ep stack.Endpoints, base string) error {
	c := &http.Client{Timeout: stack.RequestTimeout, Transport: authTransport(ep)}
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/-/ready", nil)
		if err != nil {
			return err
		}
		res, err := c.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s/-/ready answered %s", base, res.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w (last: %v)", base, ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
