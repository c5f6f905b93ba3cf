package simulate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Default listen addresses: where a developer runs the InvestIQ API and
// the ML service, and so where the local stack scrapes them.
const (
	DefaultAPIListen = "127.0.0.1:3000"
	DefaultMLListen  = "127.0.0.1:8000"
)

// ScenarioPath switches the scenario (POST ?name=errors) or reports the
// current one (GET), on the API listener.
const ScenarioPath = "/-/scenario"

// Handler serves the simulated API: /metrics (text format, or OpenMetrics
// when the scraper asks for it, as Prometheus does) and ScenarioPath.
func (sim *Simulator) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(sim.api, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	mux.HandleFunc("GET "+ScenarioPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, sim.Scenario())
	})
	mux.HandleFunc("POST "+ScenarioPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		name := r.FormValue("name")
		if name == "" {
			http.Error(w, "missing ?name=: choose one of "+strings.Join(sim.Scenarios(), ", "), http.StatusBadRequest)
			return
		}
		if err := sim.SetScenario(name); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintln(w, name)
	})
	return mux
}

// MLHandler serves the simulated ML service's /metrics. In the ml-down
// scenario it answers 503, which Prometheus records as up == 0 for the ML
// job: what a crashed model server behind a proxy looks like.
func (sim *Simulator) MLHandler() http.Handler {
	metrics := promhttp.HandlerFor(sim.ml, promhttp.HandlerOpts{EnableOpenMetrics: true})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if sim.mlDown() {
			http.Error(w, "ML service unavailable (simulated scenario "+MLDown+")", http.StatusServiceUnavailable)
			return
		}
		metrics.ServeHTTP(w, r)
	})
	return mux
}

// Server is a started simulator: the API and ML listeners and the ticker.
type Server struct {
	apiAddr, mlAddr string
	cancel          context.CancelFunc
	done            chan struct{}
	err             error
}

// Start listens on apiAddr (the API's /metrics and ScenarioPath) and, when
// mlAddr is not empty, on mlAddr (the ML service's /metrics), and advances
// the simulation every tick until ctx is done or Close is called. Ports
// are bound before Start returns, so a busy port is its error and ":0"
// works: APIAddr and MLAddr give the bound addresses.
func (sim *Simulator) Start(ctx context.Context, apiAddr, mlAddr string) (*Server, error) {
	apiL, err := net.Listen("tcp", apiAddr)
	if err != nil {
		return nil, fmt.Errorf("simulate: API listener: %w", err)
	}
	var mlL net.Listener
	if mlAddr != "" {
		if mlL, err = net.Listen("tcp", mlAddr); err != nil {
			apiL.Close()
			return nil, fmt.Errorf("simulate: ML listener: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	srv := &Server{apiAddr: apiL.Addr().String(), cancel: cancel, done: make(chan struct{})}
	servers := []*http.Server{{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}}
	listeners := []net.Listener{apiL}
	if mlL != nil {
		srv.mlAddr = mlL.Addr().String()
		servers = append(servers, &http.Server{Handler: sim.MLHandler(), ReadHeaderTimeout: 10 * time.Second})
		listeners = append(listeners, mlL)
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	fail := func(err error) {
		mu.Lock()
		if srv.err == nil {
			srv.err = err
		}
		mu.Unlock()
		cancel() // one listener failing stops the whole simulator
	}
	for i, hs := range servers {
		wg.Go(func() {
			if err := hs.Serve(listeners[i]); err != nil && !errors.Is(err, http.ErrServerClosed) {
				fail(err)
			}
		})
	}
	wg.Go(func() { sim.Run(ctx) })
	go func() {
		<-ctx.Done()
		shutdown, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		for _, hs := range servers {
			hs.Shutdown(shutdown)
		}
		wg.Wait()
		close(srv.done)
	}()
	return srv, nil
}

// APIAddr is the API listener's bound host:port.
func (s *Server) APIAddr() string { return s.apiAddr }

// MLAddr is the ML listener's bound host:port, or "" when none was asked.
func (s *Server) MLAddr() string { return s.mlAddr }

// Wait blocks until the simulator has stopped (its context is done, Close
// was called, or a listener failed) and returns the listener's error, if
// any.
func (s *Server) Wait() error {
	<-s.done
	return s.err
}

// Close stops the simulator and waits for it.
func (s *Server) Close() error {
	s.cancel()
	return s.Wait()
}
