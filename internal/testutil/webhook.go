package testutil

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// WebhookAlert is one alert of an Alertmanager webhook notification.
type WebhookAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	// GeneratorURL links back to the alert's expression in Prometheus.
	GeneratorURL string `json:"generatorURL"`
}

// WebhookMessage is Alertmanager's webhook payload (version 4), with the
// time the test's receiver got it.
type WebhookMessage struct {
	Version           string            `json:"version"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	Alerts            []WebhookAlert    `json:"alerts"`
	Received          time.Time         `json:"-"`
}

// Webhook is an HTTP server standing in for a person's chat or pager: it
// records every notification Alertmanager delivers.
type Webhook struct {
	URL string
	mu  sync.Mutex
	msg []WebhookMessage
	new chan struct{}
}

// NewWebhook starts a receiver on 127.0.0.1, closed when the test ends.
func NewWebhook(t testing.TB) *Webhook {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return NewWebhookOn(t, l)
}

// NewWebhookOn starts a receiver on l, e.g. the host's address on a
// docker network, where an Alertmanager container can reach it.
func NewWebhookOn(t testing.TB, l net.Listener) *Webhook {
	t.Helper()
	w := &Webhook{new: make(chan struct{}, 1)}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		var m WebhookMessage
		if err == nil {
			err = json.Unmarshal(body, &m)
		}
		if err != nil {
			t.Errorf("webhook: bad payload: %v", err)
			http.Error(rw, "bad payload", http.StatusBadRequest)
			return
		}
		m.Received = time.Now()
		w.mu.Lock()
		w.msg = append(w.msg, m)
		w.mu.Unlock()
		select {
		case w.new <- struct{}{}:
		default:
		}
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	w.URL = srv.URL + "/alerts"
	return w
}

// Messages returns every notification so far.
func (w *Webhook) Messages() []WebhookMessage {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]WebhookMessage(nil), w.msg...)
}

// WaitFor returns the first notification for which match is true, or false when ctx ends first.
func (w *Webhook) WaitFor(ctx context.Context, match func(WebhookMessage) bool) (WebhookMessage, bool) {
	for {
		for _, m := range w.Messages() {
			if match(m) {
				return m, true
			}
		}
		select {
		case <-ctx.Done():
			return WebhookMessage{}, false
		case <-w.new:
		case <-time.After(time.Second):
		}
	}
}

// Alert finds the alert with the given name and status in a message.
func (m WebhookMessage) Alert(name, status string) (WebhookAlert, bool) {
	for _, a := range m.Alerts {
		if a.Labels["alertname"] == name && a.Status == status {
			return a, true
		}
	}
	return WebhookAlert{}, false
}
