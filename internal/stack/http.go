package stack

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	promcfg "github.com/prometheus/common/config"
)

// HTTPClient talks to Prometheus, Alertmanager or Grafana with basic auth
// (none when user is empty). The password lives only in the round
// tripper: it is never part of a URL, so it cannot end up in an error
// message or a log line.
func HTTPClient(user, password string, timeout time.Duration) *http.Client {
	var rt http.RoundTripper = http.DefaultTransport.(*http.Transport).Clone()
	if user != "" {
		rt = promcfg.NewBasicAuthRoundTripper(promcfg.NewInlineSecret(user), promcfg.NewInlineSecret(password), rt)
	}
	return &http.Client{Transport: rt, Timeout: timeout}
}

// httpClient is HTTPClient with the timeout every stack call uses.
func httpClient(user, password string) *http.Client {
	return HTTPClient(user, password, RequestTimeout)
}

// Ready reports whether url answers 200.
func Ready(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

// reload asks a server to reread its files (POST /-/reload). Both servers
// keep their running configuration when the new one does not load, and
// answer with an error that names the problem.
func reload(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", url, Explain(err, c.Timeout))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}
