package testutil

import (
	"context"
	"net/http"
	"testing"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// basicAuthTransport adds the stack's credentials to every request.
type basicAuthTransport struct{ user, password string }

func (b basicAuthTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if b.user != "" {
		r.SetBasicAuth(b.user, b.password)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// PromAPI is a client of a Prometheus' HTTP API with basic auth (none when
// user is empty).
func PromAPI(t testing.TB, url, user, password string) v1.API {
	t.Helper()
	c, err := promapi.NewClient(promapi.Config{Address: url, Client: &http.Client{Timeout: 10 * time.Second, Transport: basicAuthTransport{user, password}}})
	if err != nil {
		t.Fatal(err)
	}
	return v1.NewAPI(c)
}

// Samples runs a range-vector query such as `{__name__=~".+"}[30s]` at
// time at and returns every raw sample it selects, by series.
func Samples(ctx context.Context, api v1.API, query string, at time.Time) (model.Matrix, error) {
	v, _, _, err := api.Query(ctx, query, at)
	if err != nil {
		return nil, err
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, &unexpectedType{v.Type()}
	}
	return m, nil
}

type unexpectedType struct{ got model.ValueType }

func (e *unexpectedType) Error() string {
	return "query returned a " + e.got.String() + ", want a matrix"
}
